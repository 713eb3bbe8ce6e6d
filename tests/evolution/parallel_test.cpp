#include "evolution/parallel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace esp::evolution {
namespace {

TEST(ThreadsForWork, ASmallGenerationRunsOnOneThread) {
  // P=20 of 90 weights each: starting threads would cost more than the work.
  EXPECT_EQ(threads_for_work(std::size_t{20} * 90, 65536, 16), 1U);
  EXPECT_EQ(threads_for_work(0, 65536, 16), 1U);
}

TEST(ThreadsForWork, GrowsWithTheWorkUpToTheCores) {
  EXPECT_EQ(threads_for_work(std::size_t{4} * 65536, 65536, 16), 4U);
  EXPECT_EQ(threads_for_work(std::size_t{4} * 65536 + 65535, 65536, 16), 4U);
  EXPECT_EQ(threads_for_work(std::size_t{100000} * 1102, 65536, 16), 16U);
  EXPECT_EQ(threads_for_work(std::size_t{100000} * 1102, 65536, 2), 2U);
}

TEST(ThreadsForWork, NeverZero) {
  EXPECT_EQ(threads_for_work(1U << 30, 65536, 0), 1U);
  EXPECT_EQ(threads_for_work(1U << 30, 0, 8), 8U);
}

TEST(ParallelFor, CoversEveryIndexOnceOnAtMostTheThreadsAsked) {
  std::vector<std::atomic<int>> seen(1000);
  std::mutex mutex;
  std::set<std::thread::id> threads;
  parallel_for(seen.size(), 3, [&](std::size_t begin, std::size_t end) {
    {
      std::lock_guard lock(mutex);
      threads.insert(std::this_thread::get_id());
    }
    for (std::size_t i = begin; i < end; ++i)
      ++seen[i];
  });
  for (const auto& count : seen)
    EXPECT_EQ(count.load(), 1);
  EXPECT_LE(threads.size(), 3U);
  EXPECT_TRUE(threads.contains(std::this_thread::get_id()));  // the caller works too
}

}  // namespace
}  // namespace esp::evolution
