#include "evolution/genomes.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <new>
#include <vector>

namespace esp::evolution {
namespace {

constexpr std::size_t kFloatsPerLine = Genomes::kAlignmentBytes / sizeof(float);
constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;

// A fresh block costs a page fault per 4 KiB on first write, which on virtual machines
// took longer than the whole generation step (110 ms for 40 MB against 1 ms of writes).
// So blocks of 2 MiB or more are huge-page backed and, once released, kept for the next
// population of similar size. The cache is bounded in blocks and bytes.
class LargeBlocks {
 public:
  // Never destroyed, so populations released during static destruction still find it.
  static LargeBlocks& instance() {
    static auto* blocks = new LargeBlocks;
    return *blocks;
  }

  static std::size_t capacity_for(std::size_t bytes) {
    return (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
  }

  void* take(std::size_t capacity) {
    {
      std::lock_guard lock(mutex_);
      auto it = std::find_if(free_.begin(), free_.end(),
                             [&](const Block& block) { return block.bytes == capacity; });
      if (it != free_.end()) {
        void* memory = it->memory;
        cached_bytes_ -= it->bytes;
        free_.erase(it);
        return memory;
      }
    }
    void* memory = std::aligned_alloc(kHugePageBytes, capacity);
    if (memory == nullptr) throw std::bad_alloc();
    madvise(memory, capacity, MADV_HUGEPAGE);  // advisory: fine if refused
    return memory;
  }

  void give(void* memory, std::size_t capacity) {
    {
      std::lock_guard lock(mutex_);
      if (free_.size() < kMaxBlocks && cached_bytes_ + capacity <= kMaxCachedBytes) {
        free_.push_back({memory, capacity});
        cached_bytes_ += capacity;
        return;
      }
    }
    std::free(memory);
  }

 private:
  struct Block {
    void* memory;
    std::size_t bytes;
  };
  static constexpr std::size_t kMaxBlocks = 4;
  static constexpr std::size_t kMaxCachedBytes = std::size_t{512} << 20;

  std::mutex mutex_;
  std::vector<Block> free_;
  std::size_t cached_bytes_ = 0;
};

std::size_t block_bytes(std::size_t floats) {
  std::size_t bytes = floats * sizeof(float);
  return bytes >= kHugePageBytes ? LargeBlocks::capacity_for(bytes) : bytes;
}

float* allocate(std::size_t bytes) {
  if (bytes == 0) return nullptr;
  if (bytes >= kHugePageBytes) return static_cast<float*>(LargeBlocks::instance().take(bytes));
  return static_cast<float*>(::operator new[](bytes, std::align_val_t{Genomes::kAlignmentBytes}));
}

}  // namespace

void Genomes::Release::operator()(float* data) const {
  if (data == nullptr) return;
  if (bytes >= kHugePageBytes) {
    LargeBlocks::instance().give(data, bytes);
  } else {
    ::operator delete[](data, std::align_val_t{kAlignmentBytes});
  }
}

Genomes::Genomes(std::size_t count, std::size_t weights_per_genome)
    : count_(count),
      weights_(weights_per_genome),
      stride_((weights_per_genome + kFloatsPerLine - 1) / kFloatsPerLine * kFloatsPerLine) {
  const std::size_t bytes = block_bytes(count_ * stride_);
  data_ = std::unique_ptr<float[], Release>(allocate(bytes), Release{bytes});
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
