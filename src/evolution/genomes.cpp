#include "evolution/genomes.h"

#include <algorithm>
#include <new>

#include "core/large_blocks.h"

namespace esp::evolution {
namespace {

constexpr std::size_t kFloatsPerLine = Genomes::kAlignmentBytes / sizeof(float);

}  // namespace

void Genomes::Release::operator()(float* data) const {
  if (data == nullptr) return;
  if (bytes >= core::kHugePageBytes) {
    core::give_large_block(data, bytes);
  } else {
    ::operator delete[](data, std::align_val_t{kAlignmentBytes});
  }
}

Genomes::Genomes(std::size_t count, std::size_t weights_per_genome)
    : count_(count),
      weights_(weights_per_genome),
      stride_((weights_per_genome + kFloatsPerLine - 1) / kFloatsPerLine * kFloatsPerLine) {
  // Large populations take a huge-page block, most often the one an earlier population
  // of about this size released (core/large_blocks.h).
  std::size_t bytes = count_ * stride_ * sizeof(float);
  float* data = nullptr;
  if (bytes >= core::kHugePageBytes) {
    data = static_cast<float*>(core::take_large_block(bytes, bytes));
  } else if (bytes > 0) {
    data = static_cast<float*>(::operator new[](bytes, std::align_val_t{kAlignmentBytes}));
  }
  data_ = std::unique_ptr<float[], Release>(data, Release{bytes});
}

Genomes::Genomes(const Genomes& other) : Genomes(other.count_, other.weights_) {
  for (std::size_t i = 0; i < count_; ++i)
    std::ranges::copy(other[i], (*this)[i].begin());
}

Genomes& Genomes::operator=(const Genomes& other) {
  if (this != &other) *this = Genomes(other);
  return *this;
}

}  // namespace esp::evolution
