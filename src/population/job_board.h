// Wakes workers when a job is queued and waiters when one ends, within this process.
// Other replicas are noticed by polling, so a missed signal only delays, never loses.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

namespace esp::population {

class JobBoard {
 public:
  void job_queued() { bump(queued_); }
  void job_ended() {
    bump(ended_);
    run_callbacks();
  }
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
  // For waiters that hold no thread (HTTP long-polls): calls `callback` once, on the
  // thread that ends the next job, or at once if one ended after `seen` or the board is
  // closed. The callback must be quick and must not call back into the board.
  void on_ended(std::uint64_t seen, std::function<void()> callback) {
    {
      std::lock_guard lock(mutex_);
      if (ended_ == seen && !closed_) {
        callbacks_.push_back(std::move(callback));
        return;
      }
    }
    callback();
  }
  // Wakes every waiter for good (shutdown).
  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
      changed_.notify_all();
    }
    run_callbacks();
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
  void run_callbacks() {
    std::vector<std::function<void()>> due;
    {
      std::lock_guard lock(mutex_);
      due.swap(callbacks_);
    }
    for (auto& callback : due)
      callback();
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
  std::vector<std::function<void()>> callbacks_;
};

}  // namespace esp::population
