#include "api/rest/login_guard.h"

#include <boost/asio/post.hpp>
#include <cmath>

namespace esp::rest {

using Clock = std::chrono::steady_clock;

AttemptLimiter::Bucket& AttemptLimiter::refilled(const std::string& key, Clock::time_point now) {
  auto [it, inserted] = buckets_.try_emplace(key, Bucket{rate_.burst, now});
  Bucket& bucket = it->second;
  if (!inserted) {
    const double elapsed = std::chrono::duration<double, std::milli>(now - bucket.updated).count();
    bucket.tokens = std::min(rate_.burst, bucket.tokens + elapsed / rate_.refill.count());
    bucket.updated = now;
  }
  return bucket;
}

std::optional<std::chrono::seconds> AttemptLimiter::wait_for(const Bucket& bucket) const {
  if (bucket.tokens >= 1) return std::nullopt;
  const double millis = (1 - bucket.tokens) * rate_.refill.count();
  return std::chrono::seconds(std::max<long>(1, std::lround(std::ceil(millis / 1000))));
}

// Full buckets say nothing a new one would not; dropping them bounds the memory an
// attacker with many addresses or account names can make the limiter hold.
void AttemptLimiter::forget_full_buckets(Clock::time_point now) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    const double elapsed =
        std::chrono::duration<double, std::milli>(now - it->second.updated).count();
    if (it->second.tokens + elapsed / rate_.refill.count() >= rate_.burst) {
      it = buckets_.erase(it);
    } else {
      ++it;
    }
  }
  if (buckets_.size() >= max_keys_) buckets_.clear();  // every key is busy: start over
}

std::optional<std::chrono::seconds> AttemptLimiter::take(const std::string& key) {
  std::lock_guard lock(mutex_);
  const auto now = Clock::now();
  if (buckets_.size() >= max_keys_) forget_full_buckets(now);
  Bucket& bucket = refilled(key, now);
  if (auto wait = wait_for(bucket)) return wait;
  bucket.tokens -= 1;
  return std::nullopt;
}

std::optional<std::chrono::seconds> AttemptLimiter::check(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) return std::nullopt;
  return wait_for(refilled(key, Clock::now()));
}

bool BoundedPool::try_post(std::function<void()> work) {
  if (waiting_.fetch_add(1) >= max_waiting_) {
    waiting_.fetch_sub(1);
    return false;
  }
  boost::asio::post(pool_, [this, work = std::move(work)] {
    waiting_.fetch_sub(1);
    work();
  });
  return true;
}

}  // namespace esp::rest
