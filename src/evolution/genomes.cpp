#include "evolution/genomes.h"

#include <algorithm>
#include <new>

namespace esp::evolution {
namespace {

constexpr std::size_t kFloatsPerLine = Genomes::kAlignmentBytes / sizeof(float);

float* allocate(std::size_t floats) {
  if (floats == 0) return nullptr;
  void* memory =
      ::operator new[](floats * sizeof(float), std::align_val_t{Genomes::kAlignmentBytes});
  return static_cast<float*>(memory);
}

}  // namespace

void Genomes::AlignedDelete::operator()(float* data) const {
  ::operator delete[](data, std::align_val_t{kAlignmentBytes});
}

Genomes::Genomes(std::size_t count, std::size_t weights_per_genome)
    : count_(count),
      weights_(weights_per_genome),
      stride_((weights_per_genome + kFloatsPerLine - 1) / kFloatsPerLine * kFloatsPerLine),
      data_(allocate(count * stride_)) {}

Genomes::Genomes(const Genomes& other) : Genomes(other.count_, other.weights_) {
  for (std::size_t i = 0; i < count_; ++i)
    std::ranges::copy(other[i], (*this)[i].begin());
}

Genomes& Genomes::operator=(const Genomes& other) {
  if (this != &other) *this = Genomes(other);
  return *this;
}

}  // namespace esp::evolution
