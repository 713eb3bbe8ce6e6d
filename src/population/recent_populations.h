// The populations this process bred most recently, in engine form, by checkpoint blob.
// The next generation of an experiment almost always starts from the checkpoint just
// written, so keeping it saves parsing and decoding the whole payload again (the
// largest cost of a generation once populations reach tens of megabytes). Payloads
// never change once written, so a hit is always the stored population.
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>

#include "evolution/engine.h"

namespace esp::population {

class RecentPopulations {
 public:
  explicit RecentPopulations(std::size_t capacity_bytes) : capacity_bytes_(capacity_bytes) {}

  std::shared_ptr<const evolution::Population> find(const std::string& blob_key) {
    std::lock_guard lock(mutex_);
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->blob_key != blob_key) continue;
      entries_.splice(entries_.begin(), entries_, it);  // most recently used first
      return it->population;
    }
    return nullptr;
  }

  // Keeps `population` as the newest of its `experiment` (owner and id), replacing the
  // one before it, whose memory the engine can then reuse; drops the least recently used
  // beyond the capacity.
  void add(const std::string& experiment, const std::string& blob_key,
           std::shared_ptr<const evolution::Population> population) {
    const std::size_t bytes =
        population->genomes.size() * population->genomes.weights_per_genome() * sizeof(float);
    std::lock_guard lock(mutex_);
    std::erase_if(entries_, [&](const Entry& entry) {
      if (entry.experiment != experiment) return false;
      held_bytes_ -= entry.bytes;
      return true;
    });
    if (bytes > capacity_bytes_) return;
    entries_.push_front({experiment, blob_key, std::move(population), bytes});
    held_bytes_ += bytes;
    while (held_bytes_ > capacity_bytes_) {
      held_bytes_ -= entries_.back().bytes;
      entries_.pop_back();
    }
  }

 private:
  struct Entry {
    std::string experiment;
    std::string blob_key;
    std::shared_ptr<const evolution::Population> population;
    std::size_t bytes;
  };
  std::mutex mutex_;
  std::list<Entry> entries_;
  std::size_t held_bytes_ = 0;
  std::size_t capacity_bytes_;
};

}  // namespace esp::population
