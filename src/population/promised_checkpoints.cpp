#include "population/promised_checkpoints.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <thread>

namespace esp::population {
namespace {

// What follows "<experiment>/<generation>/": the job's own part of the id.
std::string job_part(const store::Job& job) {
  const std::time_t seconds = job.created_at / 1000;  // created_at: unix milliseconds
  const std::string_view id = std::string_view(job.id).substr(job.id.starts_with("op_") ? 3 : 0, 6);
  // fmt::gmtime: fmt 9 formats a system_clock time point in local time.
  return fmt::format("{:%Y%m%d-%H%M%S}.{:03}-{}", fmt::gmtime(seconds), job.created_at % 1000, id);
}

bool is_live(const store::Job& job) {
  return job.status == store::JobStatus::kQueued || job.status == store::JobStatus::kRunning;
}

// The promising job is one of the experiment's newest: it is live only while it runs.
constexpr int kNewestJobs = 50;

}  // namespace

std::string checkpoint_id_for(const store::Job& job, int generation) {
  return fmt::format("{}/{}/{}", job.experiment_id, generation, job_part(job));
}

bool makes_checkpoint(const store::Job& job, std::string_view checkpoint_id) {
  const std::string_view experiment = job.experiment_id;
  if (!checkpoint_id.starts_with(experiment) || checkpoint_id.size() <= experiment.size() ||
      checkpoint_id[experiment.size()] != '/')
    return false;
  const std::string_view rest = checkpoint_id.substr(experiment.size() + 1);
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0 ||
      rest.substr(0, slash).find_first_not_of("0123456789") != std::string_view::npos)
    return false;
  return rest.substr(slash + 1) == job_part(job);
}

Result<CheckpointLookup> look_up_checkpoint(store::Store& store, const std::string& owner,
                                            const std::string& experiment_id,
                                            const std::string& checkpoint_id) {
  auto recorded = store.checkpoints->find(owner, checkpoint_id);
  if (!recorded.ok()) return recorded.error();
  if (recorded->has_value()) {
    if ((*recorded)->experiment_id != experiment_id) return CheckpointLookup{};
    return CheckpointLookup{.recorded = std::move(*recorded), .promised_by = {}};
  }
  auto jobs = store.jobs->list(owner, experiment_id, {.after = {}, .limit = kNewestJobs});
  if (!jobs.ok()) return jobs.error();
  for (auto& job : jobs->items) {
    if (!makes_checkpoint(job, checkpoint_id)) continue;
    if (is_live(job)) return CheckpointLookup{.recorded = {}, .promised_by = std::move(job)};
    // It ended after the first look: recorded now if it succeeded.
    recorded = store.checkpoints->find(owner, checkpoint_id);
    if (!recorded.ok()) return recorded.error();
    return CheckpointLookup{.recorded = std::move(*recorded), .promised_by = {}};
  }
  return CheckpointLookup{};
}

Result<std::optional<store::Checkpoint>> await_checkpoint(
    store::Store& store, const std::string& owner, const std::string& experiment_id,
    const std::string& checkpoint_id, std::chrono::steady_clock::time_point deadline) {
  // Short at first: a checkpoint being stored in this process is recorded within a second.
  auto pause = std::chrono::milliseconds(5);
  for (;;) {
    auto found = look_up_checkpoint(store, owner, experiment_id, checkpoint_id);
    if (!found.ok()) return found.error();
    if (found->recorded) return std::move(found->recorded);
    if (!found->promised_by) return std::optional<store::Checkpoint>{};
    if (std::chrono::steady_clock::now() >= deadline) {
      return Error{Code::kUnavailable,
                   fmt::format("checkpoint {} is still being made by operation {}; try again "
                               "shortly",
                               checkpoint_id, found->promised_by->id)};
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(200));
  }
}

}  // namespace esp::population
