// Verifies bearer tokens from the issuers esp trusts (its own and, e.g., an Auth0
// tenant or Keycloak realm), following RFC 8725.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "auth/claims.h"
#include "auth/jws.h"
#include "auth/key_set.h"
#include "core/error.h"

namespace esp::auth {

struct TrustedIssuer {
  std::string issuer;                  // the exact "iss" value
  std::vector<std::string> audiences;  // a token must name one of them in "aud"
  std::vector<Algorithm> algorithms;   // allowed for this issuer
  std::shared_ptr<KeySet> keys;
  bool own = false;  // espd's own issuer: its subjects own records under their plain name
};

struct VerifierOptions {
  std::chrono::seconds leeway{60};  // clock skew allowed on exp, nbf and iat
  std::size_t max_token_bytes = kMaxTokenBytes;
  std::size_t cache_entries = 10'000;
};

// Unix time in seconds; injectable so tests can move time.
using UnixClock = std::function<std::int64_t()>;
std::int64_t unix_now();

class Verifier {
 public:
  explicit Verifier(std::vector<TrustedIssuer> issuers, VerifierOptions options = {},
                    UnixClock clock = unix_now);

  // The token's claims, or kUnauthenticated with the reason (safe to log: it never
  // contains the token). Verified tokens are cached by SHA-256 digest until they expire
  // or their issuer's keys change (a removed key must stop verifying), so a repeated
  // RS256/ES256 token costs a hash and a lookup.
  Result<Claims> verify(std::string_view token) const;

 private:
  // A verified token: its claims and the keys that verified it.
  struct Verified {
    std::shared_ptr<const Claims> claims;
    const KeySet* key_set = nullptr;
    Keys keys;
  };
  Result<Claims> verify_uncached(std::string_view token, Verified& verified) const;
  Result<Claims> check_claims(const nlohmann::json& payload, const TrustedIssuer& issuer) const;
  bool still_valid(const Claims& claims) const;
  void remember(std::string digest, Verified verified) const;

  std::vector<TrustedIssuer> issuers_;
  VerifierOptions options_;
  UnixClock clock_;
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, Verified> cache_;
};

}  // namespace esp::auth
