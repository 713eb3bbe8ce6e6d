// What keeps token issuance answering under a flood of bad logins: attempts limited per
// client address and per account (429), password hashing on a bounded pool whose queue
// is bounded too (503 with Retry-After past it), and the work of a client that has gone
// away dropped before any hashing.
#pragma once

#include <atomic>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "observability/metrics.h"

namespace esp::rest {

// A token bucket per key: `burst` attempts at once, one more each `refill`.
class AttemptLimiter {
 public:
  struct Rate {
    double burst = 10;
    std::chrono::milliseconds refill{1000};
  };
  explicit AttemptLimiter(Rate rate, std::size_t max_keys = 100'000)
      : rate_(rate), max_keys_(max_keys) {}

  // Takes one attempt for `key`: nullopt when it may go ahead, else how long until it may.
  std::optional<std::chrono::seconds> take(const std::string& key);
  // The same answer without taking anything.
  std::optional<std::chrono::seconds> check(const std::string& key);

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point updated;
  };
  Bucket& refilled(const std::string& key, std::chrono::steady_clock::time_point now);
  std::optional<std::chrono::seconds> wait_for(const Bucket& bucket) const;
  void forget_full_buckets(std::chrono::steady_clock::time_point now);

  const Rate rate_;
  const std::size_t max_keys_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

// A thread pool that refuses work once `max_waiting` tasks wait for a thread.
class BoundedPool {
 public:
  BoundedPool(unsigned threads, std::size_t max_waiting)
      : pool_(threads), max_waiting_(max_waiting) {}
  // Runs `work` on the pool; false, without running it, when the queue is full.
  bool try_post(std::function<void()> work);
  void join() { pool_.join(); }

 private:
  boost::asio::thread_pool pool_;
  const std::size_t max_waiting_;
  std::atomic<std::size_t> waiting_{0};
};

struct LoginLimits {
  AttemptLimiter::Rate per_address{.burst = 60, .refill = std::chrono::milliseconds(1000)};
  AttemptLimiter::Rate failures_per_account{.burst = 10, .refill = std::chrono::milliseconds(6000)};
  unsigned hashing_threads = 2;
  std::size_t max_waiting = 32;
};

struct LoginGuard {
  LoginGuard(const LoginLimits& limits, metrics::Registry& registry)
      : per_address(limits.per_address),
        failures_per_account(limits.failures_per_account),
        hashing(limits.hashing_threads, limits.max_waiting),
        turned_away(registry.counter("esp_sign_ins_turned_away_total",
                                     "Sign-ins answered without checking the credentials.",
                                     {"reason"})) {}
  AttemptLimiter per_address;
  AttemptLimiter failures_per_account;
  BoundedPool hashing;
  // reason: address_limit, account_limit, queue_full, client_gone
  metrics::Family<metrics::Counter>& turned_away;
};

}  // namespace esp::rest
