// What the calls and the workers of one process hand each other past the store.
//
// The population bytes a worker just wrote, to a call in this process that is
// waiting for that job (gRPC NextPopulation), so the call need not read back and parse
// the checkpoint that was just written: at 40 MB that took 370-515 ms of a 1.5 s
// generation. Only populations a call awaits are kept, and only until it takes them or
// gives up; a call whose job ran elsewhere reads the checkpoint as before.
//
// The metrics a call just submitted, to the worker in this process that runs the job, so
// it need not read back and parse the input the call stored (150 ms at P=100,000). A job
// another replica claims leaves its entry here; only the newest few are kept.
#pragma once

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "population/generation_request.h"
#include "population/population_bytes.h"

namespace esp::population {

// A bred population's PopulationResponse bytes, in the experiment's representation.
struct FreshPopulation {
  std::string checkpoint_id;
  SharedBytes bytes;
};

class FreshPopulations {
 public:
  // A call starts waiting for `job_id` (several may wait for the same job).
  void await(const std::string& job_id) {
    std::lock_guard lock(mutex_);
    ++entries_[job_id].waiters;
  }
  // Whether a call awaits `job_id` (so building its population is worth it).
  bool awaited(const std::string& job_id) {
    std::lock_guard lock(mutex_);
    return entries_.contains(job_id);
  }
  // Keeps `population` for a call that awaits `job_id`; drops it otherwise.
  void offer(const std::string& job_id, FreshPopulation population) {
    std::lock_guard lock(mutex_);
    auto found = entries_.find(job_id);
    if (found != entries_.end()) found->second.population = std::move(population);
  }
  // Ends one call's wait: the population if one was offered (shared by every call that
  // awaits the job).
  std::optional<FreshPopulation> take(const std::string& job_id) {
    std::lock_guard lock(mutex_);
    auto found = entries_.find(job_id);
    if (found == entries_.end()) return std::nullopt;
    auto population = found->second.population;
    if (--found->second.waiters == 0) entries_.erase(found);
    return population;
  }

  // Keeps the metrics stored as the job input `input_key`.
  void offer_input(const std::string& input_key,
                   std::shared_ptr<const EvaluatedPopulation> metrics) {
    std::lock_guard lock(mutex_);
    inputs_.emplace_back(input_key, std::move(metrics));
    if (inputs_.size() > kMaxInputs) inputs_.pop_front();
  }
  // The metrics offered for `input_key`, once; null when they were not offered here.
  std::shared_ptr<const EvaluatedPopulation> take_input(const std::string& input_key) {
    std::lock_guard lock(mutex_);
    auto found = std::find_if(inputs_.begin(), inputs_.end(),
                              [&](const auto& input) { return input.first == input_key; });
    if (found == inputs_.end()) return nullptr;
    auto metrics = std::move(found->second);
    inputs_.erase(found);
    return metrics;
  }

 private:
  static constexpr std::size_t kMaxInputs = 4;
  struct Entry {
    int waiters = 0;
    std::optional<FreshPopulation> population;
  };
  std::mutex mutex_;
  std::map<std::string, Entry> entries_;
  std::deque<std::pair<std::string, std::shared_ptr<const EvaluatedPopulation>>> inputs_;
};

}  // namespace esp::population
