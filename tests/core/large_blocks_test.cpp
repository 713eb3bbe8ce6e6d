// Huge-page blocks kept after release for the next population of about the same size.
#include "core/large_blocks.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace esp::core {
namespace {

constexpr std::size_t kMiB = std::size_t{1} << 20;

TEST(LargeBlocks, ABlockGivenBackIsTakenAgainForAboutItsSize) {
  std::size_t capacity = 0;
  void* first = take_large_block(37 * kMiB, capacity);
  ASSERT_NE(first, nullptr);
  EXPECT_GE(capacity, 37 * kMiB);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(first) % kHugePageBytes, 0U);
  give_large_block(first, capacity);
  // The next population's bytes are a little larger: the same block, its room kept.
  std::size_t again = 0;
  EXPECT_EQ(take_large_block(37 * kMiB + 100'000, again), first);
  EXPECT_EQ(again, capacity);
  give_large_block(first, again);
  // A much larger one gets a block of its own.
  std::size_t larger = 0;
  void* other = take_large_block(90 * kMiB, larger);
  EXPECT_NE(other, first);
  give_large_block(other, larger);
}

TEST(LargeBlocks, ByteBlocksHoldTheirSizeAndGoBackWhenDestroyed) {
  const char* data = nullptr;
  {
    ByteBlock block(41 * kMiB);
    EXPECT_EQ(block.size(), 41 * kMiB);
    block.data()[block.size() - 1] = 'x';
    data = block.data();
  }
  ByteBlock next(41 * kMiB);
  EXPECT_EQ(next.data(), data);
  ByteBlock small(100);  // from the heap
  EXPECT_EQ(small.view().size(), 100U);
  EXPECT_TRUE(ByteBlock().view().empty());
}

// A block over the largest kept, or one made not to be kept, goes back to the system at
// once: a P=100,000 generation's blocks are not held beside the next request.
TEST(LargeBlocks, BlocksOverTheLargestKeptAndUnwantedOnesGoBackToTheSystem) {
  keep_large_blocks_up_to(16 * kMiB);
  const std::size_t before = large_blocks_kept();
  { ByteBlock over(24 * kMiB); }
  EXPECT_EQ(large_blocks_kept(), before);
  { ByteBlock parents(6 * kMiB, 64, 0, ByteBlock::Reuse::kRelease); }
  EXPECT_EQ(large_blocks_kept(), before);
  const char* small = nullptr;
  {
    ByteBlock under(8 * kMiB);
    small = under.data();
  }
  EXPECT_GE(large_blocks_kept(), 8 * kMiB);
  EXPECT_LE(large_blocks_kept(), 4 * 16 * kMiB);  // four of the largest at most, in all
  keep_large_blocks_up_to(kDefaultLargestKeptBlock);
  ByteBlock again(8 * kMiB);
  EXPECT_EQ(again.data(), small);
}

// Room reserved past the size, for bytes written over genomes.
TEST(LargeBlocks, ABlocksRoomIsItsToGrowInto) {
  ByteBlock block(10 * kMiB, 64, 3 * kMiB);
  EXPECT_GE(block.capacity(), 13 * kMiB);
  EXPECT_TRUE(block.resize(13 * kMiB));
  EXPECT_EQ(block.size(), 13 * kMiB);
  EXPECT_FALSE(block.resize(block.capacity() + 1));
  EXPECT_EQ(block.size(), 13 * kMiB);
  ByteBlock heap(100, 64, 1000);  // small blocks are exact
  EXPECT_EQ(heap.capacity(), 100U);
}

std::size_t resident_pages(const char* start, std::size_t bytes) {
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> resident((bytes + page - 1) / page);
  EXPECT_EQ(mincore(const_cast<char*>(start), bytes, resident.data()), 0);
  return static_cast<std::size_t>(
      std::count_if(resident.begin(), resident.end(), [](unsigned char r) { return r & 1; }));
}

// A block sized for the most it could hold and written to less gives the rest back,
// unless the cache will keep it for the next such block, which writes that far again.
TEST(LargeBlocks, AShrunkBlockGivesBackThePagesPastItsSize) {
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  {
    ByteBlock kept(16 * kMiB);
    std::memset(kept.data(), 7, kept.size());
    kept.shrink(4 * kMiB - 10);
    EXPECT_EQ(kept.size(), 4 * kMiB - 10);
    EXPECT_EQ(resident_pages(kept.data() + 4 * kMiB, 12 * kMiB), 12 * kMiB / page);
  }
  ByteBlock block(16 * kMiB, alignof(std::max_align_t), 0, ByteBlock::Reuse::kRelease);
  std::memset(block.data(), 7, block.size());
  EXPECT_EQ(resident_pages(block.data() + 4 * kMiB, 12 * kMiB), 12 * kMiB / page);
  block.shrink(4 * kMiB - 10);
  EXPECT_EQ(block.size(), 4 * kMiB - 10);
  EXPECT_EQ(resident_pages(block.data() + 4 * kMiB, 12 * kMiB), 0U);
  EXPECT_EQ(block.data()[4 * kMiB - 11], 7);  // what it keeps is intact
  block.shrink(8 * kMiB);                     // never grows
  EXPECT_EQ(block.size(), 4 * kMiB - 10);
  // Nor does one larger than the cache keeps.
  keep_large_blocks_up_to(8 * kMiB);
  ByteBlock large(16 * kMiB);
  std::memset(large.data(), 7, large.size());
  large.shrink(4 * kMiB);
  EXPECT_EQ(resident_pages(large.data() + 4 * kMiB, 12 * kMiB), 0U);
  keep_large_blocks_up_to(kDefaultLargestKeptBlock);
}

// Bytes written for good somewhere give their memory back before their block goes, a
// whole page at a time from the front, unless the cache will keep the block: the next
// population like it would fault those pages in again.
TEST(LargeBlocks, ABlockNotKeptGivesBackItsWrittenFront) {
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  ByteBlock block(16 * kMiB, alignof(std::max_align_t), 0, ByteBlock::Reuse::kRelease);
  std::memset(block.data(), 7, block.size());
  block.give_back_front(5 * kMiB + 10);
  EXPECT_EQ(resident_pages(block.data(), 5 * kMiB), 0U);
  EXPECT_EQ(resident_pages(block.data() + 5 * kMiB, 11 * kMiB), 11 * kMiB / page);
  EXPECT_EQ(block.data()[5 * kMiB + 10], 7);  // the rest of its page is kept
  EXPECT_EQ(block.size(), 16 * kMiB);
  block.give_back_front(64 * kMiB);  // never past its own bytes
  EXPECT_EQ(resident_pages(block.data(), 16 * kMiB), 0U);

  ByteBlock kept(16 * kMiB);
  std::memset(kept.data(), 7, kept.size());
  kept.give_back_front(5 * kMiB);
  EXPECT_EQ(resident_pages(kept.data(), 5 * kMiB), 5 * kMiB / page);
  EXPECT_EQ(kept.data()[0], 7);
  ByteBlock heap(1000);  // not a large block: nothing to give back
  std::memset(heap.data(), 7, heap.size());
  heap.give_back_front(1000);
  EXPECT_EQ(heap.data()[0], 7);
}

// Streamed bytes land as a copy would put them, wherever they start and however many:
// the stores go 16 bytes at a time from the first 16-byte boundary, the rest byte-wise.
TEST(LargeBlocks, StreamedBytesAreTheBytesCopied) {
  std::string from(300, '\0');
  for (std::size_t i = 0; i < from.size(); ++i)
    from[i] = static_cast<char>('a' + i % 26);
  for (std::size_t start = 0; start < 17; ++start) {
    for (std::size_t size : {0, 1, 15, 16, 17, 31, 32, 33, 255}) {
      std::string block(start + size + 32, '#');
      stream_bytes(block.data() + start, std::string_view(from).substr(start % 5, size));
      finish_streaming();
      EXPECT_EQ(block.substr(0, start), std::string(start, '#'));
      EXPECT_EQ(block.substr(start, size), from.substr(start % 5, size)) << start << " " << size;
      EXPECT_EQ(block.substr(start + size), std::string(32, '#')) << start << " " << size;
    }
  }
}

}  // namespace
}  // namespace esp::core
