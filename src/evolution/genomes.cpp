#include "evolution/genomes.h"

#include <algorithm>

namespace esp::evolution {
namespace {

constexpr std::size_t kFloatsPerLine = Genomes::kAlignmentBytes / sizeof(float);

}  // namespace

// Large populations take a huge-page block, most often the one an earlier population of
// about this size released (core/large_blocks.h).
Genomes::Genomes(std::size_t count, std::size_t weights_per_genome)
    : count_(count),
      weights_(weights_per_genome),
      stride_((weights_per_genome + kFloatsPerLine - 1) / kFloatsPerLine * kFloatsPerLine),
      block_(count_ * stride_ * sizeof(float), kAlignmentBytes) {}

Genomes::Genomes(const Genomes& other) : Genomes(other.count_, other.weights_) {
  for (std::size_t i = 0; i < count_; ++i)
    std::ranges::copy(other[i], (*this)[i].begin());
}

Genomes& Genomes::operator=(const Genomes& other) {
  if (this != &other) *this = Genomes(other);
  return *this;
}

}  // namespace esp::evolution
