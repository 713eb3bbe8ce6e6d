// Genomes of a whole population in one block: each genome is a contiguous run of
// float32 weights in layer order, starting on a 64-byte boundary. Large blocks use
// transparent huge pages and are recycled after release (core/large_blocks.h).
//
// A block may hold only some of a population's genomes (the parents a generation reads,
// engine.h's genomes_read), so that a population of hundreds of megabytes need not be
// held whole to breed from.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/large_blocks.h"

namespace esp::evolution {

class Genomes {
 public:
  static constexpr std::size_t kAlignmentBytes = 64;

  Genomes() = default;
  Genomes(std::size_t count, std::size_t weights_per_genome);
  // Genomes of `count` candidates of which only those listed in `held` are in memory.
  Genomes(std::size_t count, std::size_t weights_per_genome, std::span<const std::uint32_t> held);

  Genomes(Genomes&&) noexcept = default;
  Genomes& operator=(Genomes&&) noexcept = default;
  Genomes(const Genomes& other);
  Genomes& operator=(const Genomes& other);

  std::size_t size() const { return count_; }
  std::size_t weights_per_genome() const { return weights_; }
  bool holds(std::size_t index) const { return rows_.empty() || rows_[index] != kAbsent; }
  std::size_t held_bytes() const { return block_.size(); }

  // Only for a genome that holds(index).
  std::span<float> operator[](std::size_t index) {
    return {reinterpret_cast<float*>(block_.data()) + row(index) * stride_, weights_};
  }
  std::span<const float> operator[](std::size_t index) const {
    return {reinterpret_cast<const float*>(block_.data()) + row(index) * stride_, weights_};
  }

  // The whole block, genome 0 first, with room past the genomes for bytes written over
  // them (population_bytes); the genomes are gone once it is taken.
  const core::ByteBlock& block() const { return block_; }
  core::ByteBlock take_block() &&;
  std::size_t stride_bytes() const { return stride_ * sizeof(float); }

  // Gives the memory of genomes [begin, end) of a whole block back to the system, as far
  // as it fills whole pages; what they held is lost. For a writer that is done with them
  // (population_bytes), so that a population and its bytes are not both held whole.
  void release(std::size_t begin, std::size_t end);

 private:
  static constexpr std::uint32_t kAbsent = UINT32_MAX;
  std::size_t row(std::size_t index) const { return rows_.empty() ? index : rows_[index]; }

  std::size_t count_ = 0;
  std::size_t weights_ = 0;
  std::size_t stride_ = 0;           // weights_ rounded up to whole 64-byte lines
  std::vector<std::uint32_t> rows_;  // each candidate's row, or kAbsent; empty: all, in order
  core::ByteBlock block_;
};

}  // namespace esp::evolution
