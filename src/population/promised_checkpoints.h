// A generation's checkpoint id is fixed by its job before the job runs, so a job run
// again (its process died before it recorded the checkpoint) makes the same id, and a
// client handed a big population before its checkpoint was stored can name it at once.
// Until the job records it, the checkpoint is promised: requests that name it are
// accepted, and reads of it wait for it.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "store/store.h"

namespace esp::population {

// "<experiment>/<generation>/<yyyymmdd-hhmmss>.<mmm>-<6 characters of the job id>": the
// contract's prefix, with the time the request was queued (UTC), then what keeps two
// jobs of one second (or one millisecond) apart.
std::string checkpoint_id_for(const store::Job& job, int generation);

// Whether `checkpoint_id` is the one `job` makes, whatever its generation.
bool makes_checkpoint(const store::Job& job, std::string_view checkpoint_id);

// A checkpoint of `owner`'s experiment as it stands: recorded, or promised by a queued
// or running job, or neither (both empty).
struct CheckpointLookup {
  std::optional<store::Checkpoint> recorded;
  std::optional<store::Job> promised_by;
};
Result<CheckpointLookup> look_up_checkpoint(store::Store& store, const std::string& owner,
                                            const std::string& experiment_id,
                                            const std::string& checkpoint_id);

// The recorded checkpoint, waiting while a job promises it, until `deadline`: nullopt
// when there is none (its job failed or was cancelled); kUnavailable when the job still
// runs at `deadline`. Holds the calling thread.
Result<std::optional<store::Checkpoint>> await_checkpoint(
    store::Store& store, const std::string& owner, const std::string& experiment_id,
    const std::string& checkpoint_id, std::chrono::steady_clock::time_point deadline);

}  // namespace esp::population
