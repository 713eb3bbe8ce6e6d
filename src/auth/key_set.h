// The keys of one trusted issuer: fixed, or a JWKS URL fetched lazily, cached, and
// refreshed when a token names an unknown key, at most once per interval.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "auth/http_fetch.h"
#include "auth/key.h"

namespace esp::auth {

using Keys = std::shared_ptr<const std::vector<Key>>;

// Usable signature keys of a JWKS document ({"keys": [...]}); keys for other uses or
// of unsupported types are skipped. kInvalidArgument when none is usable.
Result<std::vector<Key>> parse_jwks(std::string_view document);

class KeySet {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  explicit KeySet(std::vector<Key> keys);
  KeySet(std::string jwks_url, Fetch fetch,
         std::chrono::seconds min_refresh = std::chrono::seconds(60),
         Clock clock = std::chrono::steady_clock::now);

  // The keys as last known. While none are known (first use, or an issuer down from the
  // start) it fetches, at most once per min_refresh. While the issuer is unreachable the
  // last good keys keep being served.
  Keys current();
  // After a token named a key not in current(): refetch unless the last fetch was less than
  // min_refresh ago, so forged kids cannot make esp hammer the issuer.
  Keys refresh();
  // Why the last fetch failed, if it did (for logs).
  std::optional<Error> last_error();
  const std::string& source() const { return url_; }
  bool remote() const { return !url_.empty(); }

 private:
  Keys refresh_locked();
  Keys fetch_locked();

  std::mutex mutex_;
  std::string url_;
  Fetch fetch_;
  std::chrono::seconds min_refresh_{60};
  Clock clock_;
  Keys keys_ = std::make_shared<const std::vector<Key>>();
  std::optional<std::chrono::steady_clock::time_point> last_fetch_;
  std::optional<Error> last_error_;
};

}  // namespace esp::auth
