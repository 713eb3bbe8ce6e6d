#include "core/large_blocks.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <new>
#include <vector>

namespace esp::core {
namespace {

class LargeBlocks {
 public:
  // Never destroyed, so blocks released during static destruction still find it.
  static LargeBlocks& instance() {
    static auto* blocks = new LargeBlocks;
    return *blocks;
  }

  void* take(std::size_t bytes, std::size_t& capacity) {
    capacity = (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
    {
      std::lock_guard lock(mutex_);
      // The smallest kept block that holds it, if at most an eighth larger: a
      // population's bytes vary a little from one generation to the next.
      auto best = free_.end();
      for (auto it = free_.begin(); it != free_.end(); ++it) {
        if (it->bytes >= capacity && it->bytes <= capacity + capacity / 8 &&
            (best == free_.end() || it->bytes < best->bytes))
          best = it;
      }
      if (best != free_.end()) {
        void* memory = best->memory;
        capacity = best->bytes;
        cached_bytes_ -= best->bytes;
        free_.erase(best);
        return memory;
      }
    }
    // A fresh block leaves room for the next population's bytes, a little larger as its
    // identities grow, to reuse it.
    capacity += capacity / 16 / kHugePageBytes * kHugePageBytes;
    void* memory = std::aligned_alloc(kHugePageBytes, capacity);
    if (memory == nullptr) throw std::bad_alloc();
    madvise(memory, capacity, MADV_HUGEPAGE);  // advisory: fine if refused
    return memory;
  }

  // The newest block is kept, the oldest let go to make room: the next population is
  // most likely the size of the last.
  void give(void* memory, std::size_t capacity) {
    if (capacity > kMaxCachedBlock) return std::free(memory);
    std::vector<void*> released;
    {
      std::lock_guard lock(mutex_);
      while (!free_.empty() &&
             (free_.size() >= kMaxBlocks || cached_bytes_ + capacity > kMaxCachedBytes)) {
        released.push_back(free_.front().memory);
        cached_bytes_ -= free_.front().bytes;
        free_.erase(free_.begin());
      }
      free_.push_back({memory, capacity});
      cached_bytes_ += capacity;
    }
    for (void* block : released)
      std::free(block);
  }

 private:
  struct Block {
    void* memory;
    std::size_t bytes;
  };
  // Blocks of up to 256 MiB (populations of up to some 60 million weights) are kept.
  // Larger ones go back to the system: at P=100,000 W=1,100 the
  // generation's peak is the next request (490 MB) arriving beside whatever is kept, and
  // keeping the last genomes and bytes blocks made it 4.3 times the population's size.
  // Their fresh huge pages cost about 80 ms per 490 MB block, 5% of such a generation.
  static constexpr std::size_t kMaxBlocks = 4;
  static constexpr std::size_t kMaxCachedBlock = std::size_t{256} << 20;
  static constexpr std::size_t kMaxCachedBytes = std::size_t{1} << 30;

  std::mutex mutex_;
  std::vector<Block> free_;
  std::size_t cached_bytes_ = 0;
};

}  // namespace

void* take_large_block(std::size_t bytes, std::size_t& capacity) {
  return LargeBlocks::instance().take(bytes, capacity);
}

void give_large_block(void* memory, std::size_t capacity, bool reuse) {
  if (!reuse) return std::free(memory);
  LargeBlocks::instance().give(memory, capacity);
}

ByteBlock::ByteBlock(std::size_t size, std::size_t alignment, std::size_t room, Reuse reuse)
    : size_(size) {
  if (size >= kHugePageBytes) {
    std::size_t capacity = 0;
    data_ = {static_cast<char*>(take_large_block(size + room, capacity)),
             Release{capacity, 0, reuse}};
  } else if (size > 0) {
    data_ = {static_cast<char*>(::operator new[](size, std::align_val_t{alignment})),
             Release{0, alignment}};
  }
}

void ByteBlock::Release::operator()(char* data) const {
  if (data == nullptr) return;
  if (capacity > 0) {
    give_large_block(data, capacity, reuse == Reuse::kKeep);
  } else {
    ::operator delete[](data, std::align_val_t{alignment});
  }
}

}  // namespace esp::core
