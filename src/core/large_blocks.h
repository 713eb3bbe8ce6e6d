// Memory for blocks of 2 MiB and more (a population's genomes, its wire bytes), backed by
// transparent huge pages and, once released, kept for the next block of about the same
// size. A fresh 4 KiB page costs a fault on its first write, which on virtual machines
// took longer than the work itself: 110 ms for 40 MB of genomes against 1 ms of writes,
// 0.5 to 1.8 s for a 490 MB population. The cache is bounded in blocks and bytes.
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <string_view>

namespace esp::core {

inline constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;

// Blocks up to this size are kept once released (four such blocks in all); larger ones go
// back to the system. Keeping a P=100,000 W=1,100 generation's blocks (440 and 490 MB)
// held them beside the next request (490 MB) when it arrived: 4.3 times the message at
// that peak. Fresh, they cost 100 ms to 1 s of page faults each, by how long ago the
// host last backed those pages.
inline constexpr std::size_t kDefaultLargestKeptBlock = std::size_t{256} << 20;
void keep_large_blocks_up_to(std::size_t bytes);
// The largest block kept once released (kDefaultLargestKeptBlock unless set).
std::size_t largest_kept_block();
// The bytes of the blocks kept for reuse now.
std::size_t large_blocks_kept();

// At least `bytes` (kHugePageBytes or more) of uninitialised memory aligned to
// kHugePageBytes; `capacity` is what the block really holds, to give back with it.
void* take_large_block(std::size_t bytes, std::size_t& capacity);
// `reuse`: false for a block of a kind not wanted again soon, which goes back to the
// system instead of staying resident in the cache.
void give_large_block(void* memory, std::size_t capacity, bool reuse = true);

// Copies `bytes` to `out` with non-temporal stores, which write whole cache lines without
// reading them first: a population's bytes in a block it will not read back soon (the
// call sends them). Written with ordinary stores, each line of the block was read from
// memory first, and an SDK JSON answer spent about a tenth of its time on those reads.
void stream_bytes(char* out, std::string_view bytes);
// Orders every stream_bytes before it like ordinary stores, for other threads to read.
void finish_streaming();

// A buffer in one large block (or on the heap when small): a population's genomes, or its
// bytes, written once and then shared read-only without copying.
class ByteBlock {
 public:
  ByteBlock() = default;
  // How a block is used, for the cache: a population's genomes or bytes, made every
  // generation at about the same size, are kept for the next one once released; a
  // generation's parents (a variable subset) are not.
  enum class Reuse { kKeep, kRelease };

  // `size` bytes, uninitialised, aligned to `alignment` (a power of two) or, when large,
  // to kHugePageBytes; a large block reserves `room` more to grow into (address space
  // only until it is written).
  explicit ByteBlock(std::size_t size, std::size_t alignment = alignof(std::max_align_t),
                     std::size_t room = 0, Reuse reuse = Reuse::kKeep);

  char* data() { return data_.get(); }
  const char* data() const { return data_.get(); }
  std::string_view view() const { return {data_.get(), size_}; }
  std::size_t size() const { return size_; }
  // What the block can hold without moving.
  std::size_t capacity() const {
    return data_.get_deleter().capacity > 0 ? data_.get_deleter().capacity : size_;
  }
  // False, and the size unchanged, beyond the capacity.
  bool resize(std::size_t size) {
    if (size > capacity()) return false;
    size_ = size;
    return true;
  }
  // Cuts a block to `size` (at most its own): a block sized for the most it could take,
  // written to less. The pages past it go back to the system unless the cache will keep
  // the block.
  void shrink(std::size_t size);
  // Gives the memory of its first `bytes` back to the system, unless the cache will keep
  // the block: bytes written somewhere for good that no one reads again (they read as
  // zeros after). The block still goes whole when released.
  void give_back_front(std::size_t bytes);

 private:
  // Whether the cache keeps the block once released (its pages are worth keeping).
  bool kept_once_released() const;
  struct Release {
    std::size_t capacity;   // 0: from the heap
    std::size_t alignment;  // of a block from the heap
    Reuse reuse = Reuse::kKeep;
    void operator()(char* data) const;
  };
  std::size_t size_ = 0;
  std::unique_ptr<char[], Release> data_{nullptr, Release{0, 0}};
};

}  // namespace esp::core
