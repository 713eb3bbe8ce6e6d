#include "evolution/genomes.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>

namespace esp::evolution {
namespace {

constexpr std::size_t kFloatsPerLine = Genomes::kAlignmentBytes / sizeof(float);

std::size_t stride_for(std::size_t weights) {
  return (weights + kFloatsPerLine - 1) / kFloatsPerLine * kFloatsPerLine;
}

}  // namespace

// Large populations take a huge-page block, most often the one an earlier population of
// about this size released (core/large_blocks.h). It reserves a quarter more, address
// space only unless written: room for the population's bytes (ids, identities and framing
// besides the weights) to be written over the genomes instead of into a block of their own.
Genomes::Genomes(std::size_t count, std::size_t weights_per_genome)
    : count_(count),
      weights_(weights_per_genome),
      stride_(stride_for(weights_per_genome)),
      block_(count_ * stride_ * sizeof(float), kAlignmentBytes,
             count_ * stride_ * sizeof(float) / 4) {}

Genomes::Genomes(std::size_t count, std::size_t weights_per_genome,
                 std::span<const std::uint32_t> held)
    : count_(count),
      weights_(weights_per_genome),
      stride_(stride_for(weights_per_genome)),
      rows_(count, kAbsent),
      // A generation's parents: a subset of another size each time, not worth keeping.
      block_(held.size() * stride_ * sizeof(float), kAlignmentBytes, 0,
             core::ByteBlock::Reuse::kRelease) {
  for (std::size_t r = 0; r < held.size(); ++r)
    rows_[held[r]] = static_cast<std::uint32_t>(r);
}

Genomes::Genomes(const Genomes& other)
    : count_(other.count_),
      weights_(other.weights_),
      stride_(other.stride_),
      rows_(other.rows_),
      block_(other.block_.size(), kAlignmentBytes) {
  std::copy_n(other.block_.data(), other.block_.size(), block_.data());
}

Genomes& Genomes::operator=(const Genomes& other) {
  if (this != &other) *this = Genomes(other);
  return *this;
}

core::ByteBlock Genomes::take_block() && {
  count_ = 0;
  rows_.clear();
  return std::move(block_);
}

void Genomes::release(std::size_t begin, std::size_t end) {
  if (!rows_.empty() || block_.size() < core::kHugePageBytes || begin >= end) return;
  static const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  const auto start = reinterpret_cast<std::uintptr_t>((*this)[begin].data());
  const auto stop = reinterpret_cast<std::uintptr_t>((*this)[end - 1].data() + stride_);
  const std::uintptr_t first = (start + page - 1) / page * page;
  const std::uintptr_t last = stop / page * page;
  // Advisory: memory that stays is only memory not saved.
  if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}

}  // namespace esp::evolution
