#include "core/large_blocks.h"

#include <sys/mman.h>
#include <unistd.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
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
    std::vector<void*> released;
    {
      std::lock_guard lock(mutex_);
      if (capacity > largest_kept_) {
        released.push_back(memory);
        memory = nullptr;
      }
      while (memory != nullptr && !free_.empty() &&
             (free_.size() >= kMaxBlocks || cached_bytes_ + capacity > 4 * largest_kept_)) {
        released.push_back(free_.front().memory);
        cached_bytes_ -= free_.front().bytes;
        free_.erase(free_.begin());
      }
      if (memory != nullptr) {
        free_.push_back({memory, capacity});
        cached_bytes_ += capacity;
      }
    }
    for (void* block : released)
      std::free(block);
  }

 private:
  struct Block {
    void* memory;
    std::size_t bytes;
  };
  static constexpr std::size_t kMaxBlocks = 4;

 public:
  std::size_t kept_bytes() {
    std::lock_guard lock(mutex_);
    return cached_bytes_;
  }
  void keep_up_to(std::size_t bytes) {
    std::lock_guard lock(mutex_);
    largest_kept_ = bytes;
  }
  std::size_t largest_kept() {
    std::lock_guard lock(mutex_);
    return largest_kept_;
  }

 private:
  std::mutex mutex_;
  std::size_t largest_kept_ = kDefaultLargestKeptBlock;  // and four times that in all
  std::vector<Block> free_;
  std::size_t cached_bytes_ = 0;
};

}  // namespace

void* take_large_block(std::size_t bytes, std::size_t& capacity) {
  return LargeBlocks::instance().take(bytes, capacity);
}

std::size_t large_blocks_kept() {
  return LargeBlocks::instance().kept_bytes();
}

void keep_large_blocks_up_to(std::size_t bytes) {
  LargeBlocks::instance().keep_up_to(bytes);
}

std::size_t largest_kept_block() {
  return LargeBlocks::instance().largest_kept();
}

void give_large_block(void* memory, std::size_t capacity, bool reuse) {
  if (!reuse) return std::free(memory);
  LargeBlocks::instance().give(memory, capacity);
}

void stream_bytes(char* out, std::string_view bytes) {
  const char* from = bytes.data();
  std::size_t left = bytes.size();
#if defined(__SSE2__)
  // Up to the first 16-byte boundary as usual, then 16 bytes a store.
  const std::size_t head = std::min(left, -reinterpret_cast<std::uintptr_t>(out) % 16);
  std::memcpy(out, from, head);
  out += head;
  from += head;
  left -= head;
  for (; left >= 16; left -= 16, out += 16, from += 16) {
    _mm_stream_si128(reinterpret_cast<__m128i*>(out),
                     _mm_loadu_si128(reinterpret_cast<const __m128i*>(from)));
  }
#endif
  std::memcpy(out, from, left);
}

void finish_streaming() {
#if defined(__SSE2__)
  _mm_sfence();
#endif
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

void ByteBlock::shrink(std::size_t size) {
  if (size >= size_) return;
  size_ = size;
  const std::size_t capacity = data_.get_deleter().capacity;
  if (kept_once_released()) return;
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  const std::size_t kept = (size + page - 1) / page * page;
  if (capacity > kept) madvise(data_.get() + kept, capacity - kept, MADV_DONTNEED);
}

void ByteBlock::give_back_front(std::size_t bytes) {
  if (data_.get_deleter().capacity == 0 || kept_once_released()) return;
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  const std::size_t whole = std::min(bytes, size_) / page * page;
  if (whole > 0) madvise(data_.get(), whole, MADV_DONTNEED);  // advisory, as in shrink
}

// A block the cache will keep is written to as far again by the next population like it:
// pages given back now would fault in again then (on a VM, at the host's cost too).
bool ByteBlock::kept_once_released() const {
  return data_.get_deleter().reuse == Reuse::kKeep &&
         data_.get_deleter().capacity <= largest_kept_block();
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
