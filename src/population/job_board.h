// Wakes workers when a job is queued and waiters when one ends, within this process.
// Other replicas are noticed by polling, so a missed signal only delays, never loses.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace esp::population {

class JobBoard {
 public:
  void job_queued() { bump(queued_); }
  void job_ended() { bump(ended_); }
  // Returns after a job_queued() newer than `seen`, or at `until`; yields the latest count.
  std::uint64_t wait_for_queued(std::uint64_t seen, std::chrono::steady_clock::time_point until) {
    return wait(queued_, seen, until);
  }
  std::uint64_t wait_for_ended(std::uint64_t seen, std::chrono::steady_clock::time_point until) {
    return wait(ended_, seen, until);
  }
  std::uint64_t queued_count() {
    std::lock_guard lock(mutex_);
    return queued_;
  }
  std::uint64_t ended_count() {
    std::lock_guard lock(mutex_);
    return ended_;
  }
  // Wakes every waiter for good (shutdown).
  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    changed_.notify_all();
  }
  bool closed() {
    std::lock_guard lock(mutex_);
    return closed_;
  }

 private:
  void bump(std::uint64_t& counter) {
    std::lock_guard lock(mutex_);
    ++counter;
    changed_.notify_all();
  }
  std::uint64_t wait(std::uint64_t& counter, std::uint64_t seen,
                     std::chrono::steady_clock::time_point until) {
    std::unique_lock lock(mutex_);
    changed_.wait_until(lock, until, [&] { return counter != seen || closed_; });
    return counter;
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  std::uint64_t queued_ = 0;
  std::uint64_t ended_ = 0;
  bool closed_ = false;
};

}  // namespace esp::population
