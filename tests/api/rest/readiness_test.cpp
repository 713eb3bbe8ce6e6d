// Readiness answers from its last refresh: a check that hangs makes the replica unready
// within its timeout and never holds the caller.
#include "api/rest/readiness.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

namespace esp::rest {
namespace {

using std::chrono::milliseconds;

TEST(Readiness, AHungCheckFailsWithinItsTimeoutAndIsNotStartedTwice) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> runs{0};
  std::atomic<bool> hang{false};
  Readiness readiness({.refresh = milliseconds(20), .timeout = milliseconds(50)});
  readiness.add_check("database", [&]() -> std::optional<std::string> {
    ++runs;
    if (hang) released.wait();
    return std::nullopt;
  });
  readiness.start();
  EXPECT_TRUE(readiness.report().ready);

  hang = true;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (readiness.report().ready && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(milliseconds(5));
  const auto hung = readiness.report();  // answered from the cache at once
  ASSERT_FALSE(hung.ready);
  EXPECT_EQ(hung.checks.at(0).failure, "no answer within 50 ms");
  const int runs_while_hung = runs;
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_EQ(runs, runs_while_hung);  // the hung run is waited for, not started again

  hang = false;
  release.set_value();
  while (!readiness.report().ready && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(milliseconds(5));
  EXPECT_TRUE(readiness.report().ready);
  readiness.stop();
}

TEST(Readiness, ShuttingDownIsNotReadyWhateverTheChecksSay) {
  Readiness readiness;
  readiness.add_check("ok", [] { return std::optional<std::string>(); });
  readiness.start();
  readiness.mark_shutting_down();
  EXPECT_FALSE(readiness.report().ready);
  EXPECT_TRUE(readiness.report().shutting_down);
}

}  // namespace
}  // namespace esp::rest
