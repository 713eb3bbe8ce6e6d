// The populations this process bred most recently, by checkpoint blob. The next
// generation of an experiment almost always starts from the checkpoint just written, so
// keeping it saves parsing and decoding the whole payload again (the largest cost of a
// generation once populations reach tens of megabytes). Payloads never change once
// written, so a hit is always the stored population.
//
// A population whose genomes are larger than `keep_genomes_up_to` is kept without them,
// with its interpretations' digests instead: the client's request, which repeats every
// weight anyway, supplies the parents, checked against the digests. Keeping the genomes
// too would hold the population twice while that request arrives.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "evolution/engine.h"

namespace esp::population {

struct KeptPopulation {
  std::shared_ptr<const evolution::Population> population;  // null: not kept
  // Each candidate's interpretation_digest as handed out; null when the genomes are kept.
  std::shared_ptr<const std::vector<std::uint64_t>> digests;
  // The same of the answer in a text representation (the SDK's JSON), whose next request
  // then supplies the parents' weight texts; null when none went out from this process.
  std::shared_ptr<const std::vector<std::uint64_t>> text_digests;
};

class RecentPopulations {
 public:
  RecentPopulations(std::size_t capacity_bytes, std::size_t keep_genomes_up_to)
      : capacity_bytes_(capacity_bytes), keep_genomes_up_to_(keep_genomes_up_to) {}

  // Whether a population with `genome_bytes` of genomes is kept with them.
  bool keeps_genomes(std::size_t genome_bytes) const { return genome_bytes <= keep_genomes_up_to_; }

  KeptPopulation find(const std::string& blob_key) {
    std::lock_guard lock(mutex_);
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->blob_key != blob_key) continue;
      entries_.splice(entries_.begin(), entries_, it);  // most recently used first
      return it->kept;
    }
    return {};
  }

  // Keeps `kept` as the newest of its `experiment` (owner and id), replacing the one
  // before it, whose memory the engine can then reuse; drops the least recently used
  // beyond the capacity.
  void add(const std::string& experiment, const std::string& blob_key, KeptPopulation kept) {
    const auto digest_bytes = [](const auto& digests) {
      return digests ? digests->size() * sizeof(std::uint64_t) : 0;
    };
    const std::size_t bytes = kept.population->genomes.held_bytes() + digest_bytes(kept.digests) +
                              digest_bytes(kept.text_digests);
    std::lock_guard lock(mutex_);
    std::erase_if(entries_, [&](const Entry& entry) {
      if (entry.experiment != experiment) return false;
      held_bytes_ -= entry.bytes;
      return true;
    });
    if (bytes > capacity_bytes_) return;
    entries_.push_front({experiment, blob_key, std::move(kept), bytes});
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
    KeptPopulation kept;
    std::size_t bytes;
  };
  std::mutex mutex_;
  std::list<Entry> entries_;
  std::size_t held_bytes_ = 0;
  std::size_t capacity_bytes_;
  std::size_t keep_genomes_up_to_;
};

}  // namespace esp::population
