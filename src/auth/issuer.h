// Issues esp's own tokens: signed with the newest signing key, verifiable by anyone with
// the published JWKS.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "auth/claims.h"
#include "auth/key.h"
#include "auth/verifier.h"

namespace esp::auth {

struct IssuedToken {
  std::string token;
  std::int64_t expires_in = 0;  // seconds
  std::string scope;            // space separated, as granted
};

class TokenIssuer {
 public:
  // `keys` newest first: the first signs, all verify (rotation). Throws std::invalid_argument
  // when there is no key or the first cannot sign.
  TokenIssuer(std::string issuer, std::string audience, std::vector<Key> keys,
              std::chrono::seconds lifetime, UnixClock clock = unix_now);

  // Claims: iss, sub, aud, iat, nbf, exp, jti, scope, permissions and email when given.
  Result<IssuedToken> issue(const std::string& subject, Scopes scopes,
                            const std::string& email = {}) const;

  // {"keys": [...]}: the public keys; symmetric keys never appear.
  nlohmann::json jwks() const;
  // esp's own entry in the verifier's list of trusted issuers.
  TrustedIssuer trusted() const;
  const std::string& issuer() const { return issuer_; }
  const std::string& audience() const { return audience_; }

 private:
  std::string issuer_;
  std::string audience_;
  std::vector<Key> keys_;
  std::chrono::seconds lifetime_;
  UnixClock clock_;
};

}  // namespace esp::auth
