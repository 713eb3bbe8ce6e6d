#include "auth/key_set.h"

#include "auth/strict_json.h"

namespace esp::auth {

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

KeySet::KeySet(std::string jwks_url, Fetch fetch, std::chrono::seconds min_refresh, Clock clock)
    : url_(std::move(jwks_url)),
      fetch_(std::move(fetch)),
      min_refresh_(min_refresh),
      clock_(std::move(clock)) {}

Keys KeySet::current() {
  std::lock_guard lock(mutex_);
  // Until a fetch succeeds, each use may try again, within the same rate limit.
  return keys_->empty() ? refresh_locked() : keys_;
}

Keys KeySet::refresh() {
  std::lock_guard lock(mutex_);
  return refresh_locked();
}

Keys KeySet::refresh_locked() {
  if (!remote() || (last_fetch_ && clock_() - *last_fetch_ < min_refresh_)) return keys_;
  return fetch_locked();
}

std::optional<Error> KeySet::last_error() {
  std::lock_guard lock(mutex_);
  return last_error_;
}

Keys KeySet::fetch_locked() {
  last_fetch_ = clock_();
  auto document = fetch_(url_);
  auto keys = document.ok() ? parse_jwks(*document) : Result<std::vector<Key>>(document.error());
  if (keys.ok()) {
    keys_ = std::make_shared<const std::vector<Key>>(std::move(*keys));
    last_error_.reset();
  } else {
    last_error_ = keys.error();
  }
  return keys_;
}

}  // namespace esp::auth
