// What the calls and the workers of one process hand each other past the store.
//
// The population bytes a worker just wrote, to a call in this process that is
// waiting for that job (gRPC NextPopulation), so the call need not read back and parse
// the checkpoint that was just written: at 40 MB that took 370-515 ms of a 1.5 s
// generation. A big one is handed over before its checkpoint is stored, and the call
// answers at once (generations.h). Only populations a call awaits are kept, and only
// until it takes them or gives up; a call whose job ran elsewhere reads the checkpoint
// as before.
//
// The metrics a call just submitted, to the worker in this process that runs the job, so
// it need not read back and parse the input the call stored (150 ms at P=100,000), with
// the interpretations its request carried while gRPC still holds them, which a population
// kept without its genomes is bred from (recent_populations.h). A job another replica
// claims leaves its entry here until its call ends; only the newest few are kept.
#pragma once

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "population/generation_request.h"
#include "population/population_bytes.h"

namespace esp::population {

// A bred population's PopulationResponse bytes, in the experiment's representation.
struct FreshPopulation {
  std::string checkpoint_id;
  SharedBytes bytes;
  // Handed over before its checkpoint was stored: the call answers without waiting for
  // the job to end. Otherwise it answers once the job is recorded, as every read agrees.
  bool before_storing = false;
};

// A job's input as the call that submitted it handed it over.
struct OfferedInput {
  // Null when not offered in this process. The job's own: it moves the metrics out.
  std::unique_ptr<EvaluatedPopulation> metrics;
  std::shared_ptr<const SentInterpretations> interpretations;  // null: none held
};

class FreshPopulations {
 public:
  // A call starts waiting for `job_id` (several may wait for the same job). `on_offer`,
  // if given, is called when the population arrives, on the worker's thread: it must be
  // quick and must not call back in here.
  void await(const std::string& job_id, std::function<void()> on_offer = {}) {
    std::lock_guard lock(mutex_);
    auto& entry = entries_[job_id];
    ++entry.waiters;
    if (on_offer) entry.on_offer.push_back(std::move(on_offer));
  }
  // Whether a call awaits `job_id` (so building its population is worth it).
  bool awaited(const std::string& job_id) {
    std::lock_guard lock(mutex_);
    return entries_.contains(job_id);
  }
  // Whether the population of `job_id` is here to be answered before its job ends.
  bool answerable(const std::string& job_id) {
    std::lock_guard lock(mutex_);
    auto found = entries_.find(job_id);
    return found != entries_.end() && found->second.population &&
           found->second.population->before_storing;
  }
  // Keeps `population` for a call that awaits `job_id`, and tells it; drops it otherwise.
  void offer(const std::string& job_id, FreshPopulation population) {
    std::vector<std::function<void()>> due;
    {
      std::lock_guard lock(mutex_);
      auto found = entries_.find(job_id);
      if (found == entries_.end()) return;
      found->second.population = std::move(population);
      due.swap(found->second.on_offer);
    }
    for (auto& tell : due)
      tell();
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

  // Keeps the metrics stored as the job input `input_key`, and the interpretations the
  // request carried when its transport still holds them.
  void offer_input(const std::string& input_key, OfferedInput input) {
    std::lock_guard lock(mutex_);
    inputs_.emplace_back(input_key, std::move(input));
    if (inputs_.size() > kMaxInputs) inputs_.pop_front();
  }
  // What was offered for `input_key`, once; empty when it was not offered here.
  OfferedInput take_input(const std::string& input_key) {
    std::lock_guard lock(mutex_);
    auto found = std::find_if(inputs_.begin(), inputs_.end(),
                              [&](const auto& input) { return input.first == input_key; });
    if (found == inputs_.end()) return {};
    auto input = std::move(found->second);
    inputs_.erase(found);
    return input;
  }
  // Lets go of what is still offered for `input_key` (the call that offered it has its
  // answer, or gave up): a request of hundreds of megabytes is never kept for a job that
  // ran elsewhere.
  void forget_input(const std::string& input_key) {
    std::vector<OfferedInput> forgotten;  // freed outside the lock
    std::lock_guard lock(mutex_);
    std::erase_if(inputs_, [&](auto& input) {
      if (input.first != input_key) return false;
      forgotten.push_back(std::move(input.second));
      return true;
    });
  }

 private:
  static constexpr std::size_t kMaxInputs = 4;
  struct Entry {
    int waiters = 0;
    std::optional<FreshPopulation> population;
    std::vector<std::function<void()>> on_offer;
  };
  std::mutex mutex_;
  std::map<std::string, Entry> entries_;
  std::deque<std::pair<std::string, OfferedInput>> inputs_;
};

}  // namespace esp::population
