#include "auth/key_set.h"

#include "auth/strict_json.h"

namespace esp::auth {

using Clock = std::chrono::steady_clock;

Result<std::vector<Key>> parse_jwks(std::string_view document) {
  auto jwks = parse_strict_object(document);
  if (!jwks || !jwks->contains("keys") || !(*jwks)["keys"].is_array()) {
    return Error{Code::kInvalidArgument, "not a JWKS document"};
  }
  std::vector<Key> keys;
  for (const auto& jwk : (*jwks)["keys"]) {
    if (!jwk.is_object() || jwk.value("use", "sig") != "sig") continue;
    auto key = Key::from_jwk(jwk);
    if (key.ok() && !key->is_symmetric()) keys.push_back(std::move(*key));
  }
  if (keys.empty()) return Error{Code::kInvalidArgument, "the JWKS has no usable signature key"};
  return keys;
}

KeySet::KeySet(std::vector<Key> keys)
    : keys_(std::make_shared<const std::vector<Key>>(std::move(keys))) {}

KeySet::KeySet(std::string jwks_url, Fetch fetch, RemoteKeyOptions options)
    : url_(std::move(jwks_url)), fetch_(std::move(fetch)), options_(options) {
  refresher_ = std::thread([this] { refresh_loop(); });
}

KeySet::~KeySet() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (refresher_.joinable()) refresher_.join();
}

Keys KeySet::current() const {
  std::lock_guard lock(mutex_);
  return keys_;
}

void KeySet::request_refresh() {
  if (!remote()) return;
  {
    std::lock_guard lock(mutex_);
    refresh_requested_ = true;
  }
  changed_.notify_all();
}

bool KeySet::wait_for_fetches(std::uint64_t count, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return fetches_ended_ >= count || stopping_; }) &&
         fetches_ended_ >= count;
}

std::optional<Error> KeySet::last_error() const {
  std::lock_guard lock(mutex_);
  return last_error_;
}

void KeySet::refresh_loop() {
  for (;;) {
    const auto started = Clock::now();
    auto fetched = fetch_(url_);  // no lock held: verifiers keep reading the last keys
    auto keys =
        fetched.ok() ? parse_jwks(fetched->body) : Result<std::vector<Key>>(fetched.error());
    std::chrono::seconds lifetime = options_.min_refresh;  // after a failure: retry then
    std::unique_lock lock(mutex_);
    if (keys.ok()) {
      keys_ = std::make_shared<const std::vector<Key>>(std::move(*keys));
      last_error_.reset();
      lifetime = std::clamp(fetched->max_age.value_or(options_.default_lifetime),
                            options_.min_refresh, options_.max_lifetime);
    } else {
      last_error_ = keys.error();
    }
    ++fetches_ended_;
    refresh_requested_ = false;
    changed_.notify_all();
    const auto earliest = started + options_.min_refresh;
    const auto due = started + lifetime;
    // Until the document is due, or an early refresh is asked for and allowed.
    while (!stopping_ && Clock::now() < due) {
      if (refresh_requested_ && Clock::now() >= earliest) break;
      changed_.wait_until(lock, refresh_requested_ ? std::min(due, earliest) : due);
    }
    if (stopping_) return;
  }
}

}  // namespace esp::auth
