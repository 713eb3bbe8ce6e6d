// Records of the population service: experiments, checkpoints and generation jobs,
// behind interfaces so PostgreSQL can follow SQLite without touching the use cases.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"

namespace esp::store {

struct Experiment {
  std::string owner;  // the token subject that created it
  std::string id;     // chosen by the client, unique per owner
  std::string params_json;
  std::int64_t created_at = 0;
};

struct Checkpoint {
  std::string owner;
  std::string experiment_id;
  std::string checkpoint_id;  // "<experiment_id>/<generation>/<yyyymmdd-hhmmss>.<mmm>-<job>"
  int generation = 0;
  std::string job_id;    // the job that produced it, exactly once
  std::string blob_key;  // where the population payload lives
  std::int64_t size_bytes = 0;
  std::string params_json;  // the parameters this generation was made with
  std::int64_t created_at = 0;
  // The summary of the evaluated generation this one was bred from (per objective
  // count, min, max, mean; fronts), JSON; empty for the seed.
  std::string stats_json;
};

// One row of an experiment's statistics: a checkpoint's summary of its parent generation.
struct GenerationSummary {
  int generation = 0;  // the checkpoint's; the summary describes generation - 1
  std::string checkpoint_id;
  std::int64_t created_at = 0;
  std::string stats_json;
};

enum class JobStatus { kQueued, kRunning, kSucceeded, kFailed, kCancelled };
std::string_view name_of(JobStatus status);

struct Job {
  std::string id;
  std::string owner;
  std::string experiment_id;
  std::string idempotency_key;    // same request, same job
  std::string source_checkpoint;  // empty for the seed generation
  std::string params_json;
  std::string input_blob_key;  // the client's metrics, empty for the seed
  JobStatus status = JobStatus::kQueued;
  int attempts = 0;
  std::int64_t created_at = 0;  // unix milliseconds, for every time stamp of a job
  std::int64_t started_at = 0;
  std::int64_t finished_at = 0;
  std::string result_checkpoint;
  std::string error;
  // What kind of failure: a caller's mistake the job found (kInvalidArgument) is told
  // as such; kInternal and kUnavailable messages are for operators (public_detail).
  Code error_code = Code::kInternal;
  int result_generation = 0;  // the generation of result_checkpoint
};

// One page of a listing in a stable order; `next` resumes after its last record and is
// empty on the last page.
template <typename Record>
struct Page {
  std::vector<Record> items;
  std::string next;
};

struct PageRequest {
  std::string after;  // a previous page's `next`, empty for the first page
  int limit = 50;
};

// Stores page by an increasing row position; `next` is the last position seen. The
// position to list after: 0 for the first page, kInvalidArgument for a made-up token.
Result<std::int64_t> position_after(const PageRequest& page);

// What deleting an experiment removed from the records; the payloads are the caller's
// to delete, after the records are gone, so no record ever points at a missing blob.
struct RemovedExperiment {
  std::vector<std::string> blob_keys;
};

class Experiments {
 public:
  virtual ~Experiments() = default;
  struct Stored {
    Experiment experiment;  // the new one, or the existing one with this owner and id
    bool inserted = false;  // whether this call made it
  };
  virtual Result<Stored> create_if_absent(const Experiment& experiment) = 0;
  virtual Result<std::optional<Experiment>> find(const std::string& owner,
                                                 const std::string& id) = 0;
  // Oldest first. `owner` empty lists every owner's experiments.
  virtual Result<Page<Experiment>> list(const std::string& owner, const PageRequest& page) = 0;
  // In one transaction: the experiment, its checkpoints and its jobs (a running job's
  // result is then refused). nullopt when there was no such experiment.
  virtual Result<std::optional<RemovedExperiment>> remove(const std::string& owner,
                                                          const std::string& id) = 0;
};

class Checkpoints {
 public:
  virtual ~Checkpoints() = default;
  virtual Result<std::optional<Checkpoint>> find(const std::string& owner,
                                                 const std::string& checkpoint_id) = 0;
  virtual Result<std::optional<Checkpoint>> find_by_job(const std::string& job_id) = 0;
  // The experiment's newest checkpoint, nullopt before its first.
  virtual Result<std::optional<Checkpoint>> latest(const std::string& owner,
                                                   const std::string& experiment_id) = 0;
  // Oldest first.
  virtual Result<Page<Checkpoint>> list(const std::string& owner, const std::string& experiment_id,
                                        const PageRequest& page) = 0;
  // Every checkpoint's summary of the generation it was bred from, by generation, in one
  // query that reads no payload.
  virtual Result<std::vector<GenerationSummary>> summaries(const std::string& owner,
                                                           const std::string& experiment_id) = 0;
};

class Jobs {
 public:
  virtual ~Jobs() = default;
  // Queues `job` unless one with its idempotency key exists; returns the stored job.
  // A failed or cancelled job with that key is queued again: sending a request again
  // is how a client retries it.
  virtual Result<Job> enqueue(const Job& job) = 0;
  virtual Result<std::optional<Job>> find(const std::string& id) = 0;
  // An experiment's jobs, newest first.
  virtual Result<Page<Job>> list(const std::string& owner, const std::string& experiment_id,
                                 const PageRequest& page) = 0;
  // Takes the oldest queued job, or a running one whose lease expired, for `worker`
  // until now + lease. A running job whose lease expired after `max_attempts` claims (its
  // process died that often while running it) is failed for good instead, saying so.
  virtual Result<std::optional<Job>> claim(const std::string& worker,
                                           std::chrono::milliseconds lease, int max_attempts) = 0;
  // Extends the lease; false when the job is no longer this worker's.
  virtual Result<bool> heartbeat(const std::string& job_id, const std::string& worker,
                                 std::chrono::milliseconds lease) = 0;
  // In one transaction: records the checkpoint and marks the job succeeded, if the
  // worker still holds it. A checkpoint already recorded for the job is kept.
  virtual Result<bool> succeed(const std::string& job_id, const std::string& worker,
                               const Checkpoint& checkpoint) = 0;
  // Marks the job failed with `error` (its code and message), if the worker still holds it.
  virtual Result<bool> fail(const std::string& job_id, const std::string& worker,
                            const Error& error) = 0;
  // Ends a queued or running job as cancelled (a running job's result is then refused);
  // the job as it stands afterwards, nullopt when there is none.
  virtual Result<std::optional<Job>> cancel(const std::string& job_id) = 0;
};

std::int64_t unix_millis();

// The error of a job that claim() gave up on: kGaveUpBefore, its attempts, kGaveUpAfter.
inline constexpr std::string_view kGaveUpBefore = "gave up after ";
inline constexpr std::string_view kGaveUpAfter =
    " attempts: the process running this job ended each time before it finished (out of "
    "memory, or killed?)";

}  // namespace esp::store
