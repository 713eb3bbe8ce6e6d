// Genomes of a whole population in one block: each genome is a contiguous run of
// float32 weights in layer order, starting on a 64-byte boundary. Large blocks use
// transparent huge pages and are recycled after release (core/large_blocks.h).
#pragma once

#include <cstddef>
#include <span>

#include "core/large_blocks.h"

namespace esp::evolution {

class Genomes {
 public:
  static constexpr std::size_t kAlignmentBytes = 64;

  Genomes() = default;
  Genomes(std::size_t count, std::size_t weights_per_genome);

  Genomes(Genomes&&) noexcept = default;
  Genomes& operator=(Genomes&&) noexcept = default;
  Genomes(const Genomes& other);
  Genomes& operator=(const Genomes& other);

  std::size_t size() const { return count_; }
  std::size_t weights_per_genome() const { return weights_; }

  std::span<float> operator[](std::size_t index) {
    return {reinterpret_cast<float*>(block_.data()) + index * stride_, weights_};
  }
  std::span<const float> operator[](std::size_t index) const {
    return {reinterpret_cast<const float*>(block_.data()) + index * stride_, weights_};
  }

 private:
  std::size_t count_ = 0;
  std::size_t weights_ = 0;
  std::size_t stride_ = 0;  // weights_ rounded up to whole 64-byte lines
  core::ByteBlock block_;
};

}  // namespace esp::evolution
