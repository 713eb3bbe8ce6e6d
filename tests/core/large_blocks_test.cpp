// Huge-page blocks kept after release for the next population of about the same size.
#include "core/large_blocks.h"

#include <gtest/gtest.h>

#include <cstdint>

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

}  // namespace
}  // namespace esp::core
