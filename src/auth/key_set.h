// The keys of one trusted issuer: fixed, or a JWKS URL that a thread of the key set's
// own fetches at start and again when the document's lifetime (Cache-Control max-age,
// else a default) runs out, or early when a token names an unknown key (at most once per
// min_refresh). A removed key stops verifying at the next fetch. Verifying never fetches
// and never waits on a fetch: it reads the keys last fetched.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "auth/http_fetch.h"
#include "auth/key.h"

namespace esp::auth {

using Keys = std::shared_ptr<const std::vector<Key>>;

// Usable signature keys of a JWKS document ({"keys": [...]}); keys for other uses or
// of unsupported types are skipped. kInvalidArgument when none is usable.
Result<std::vector<Key>> parse_jwks(std::string_view document);

struct RemoteKeyOptions {
  std::chrono::seconds default_lifetime{300};  // without a max-age
  std::chrono::seconds min_refresh{60};        // between two fetches, whatever asks
  std::chrono::seconds max_lifetime{86'400};   // a longer max-age is cut to this
};

class KeySet {
 public:
  explicit KeySet(std::vector<Key> keys);
  KeySet(std::string jwks_url, Fetch fetch, RemoteKeyOptions options = {});
  ~KeySet();
  KeySet(const KeySet&) = delete;
  KeySet& operator=(const KeySet&) = delete;

  // The keys as last fetched (empty before the first good fetch). While the issuer is
  // unreachable the last good keys keep being served.
  Keys current() const;
  // A token named a key not in current(): the refresher fetches now unless it fetched
  // less than min_refresh ago, so forged kids cannot make esp hammer the issuer. Returns
  // at once.
  void request_refresh();
  // Waits until `count` fetches have ended since the key set was made (successful or
  // not), or `timeout` passed; whether they have. For tests: verifying never waits.
  bool wait_for_fetches(std::uint64_t count, std::chrono::milliseconds timeout);
  // Why the last fetch failed, if it did (for logs).
  std::optional<Error> last_error() const;
  const std::string& source() const { return url_; }
  bool remote() const { return !url_.empty(); }

 private:
  void refresh_loop();

  std::string url_;
  Fetch fetch_;
  RemoteKeyOptions options_;
  mutable std::mutex mutex_;  // guards the members below, never held while fetching
  std::condition_variable changed_;
  Keys keys_ = std::make_shared<const std::vector<Key>>();
  std::optional<Error> last_error_;
  std::uint64_t fetches_ended_ = 0;
  bool refresh_requested_ = false;
  bool stopping_ = false;
  std::thread refresher_;
};

}  // namespace esp::auth
