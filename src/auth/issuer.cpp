#include "auth/issuer.h"

#include <stdexcept>

#include "auth/digest.h"
#include "auth/jws.h"

namespace esp::auth {

TokenIssuer::TokenIssuer(std::string issuer, std::string audience, std::vector<Key> keys,
                         std::chrono::seconds lifetime, UnixClock clock)
    : issuer_(std::move(issuer)),
      audience_(std::move(audience)),
      keys_(std::move(keys)),
      lifetime_(lifetime),
      clock_(std::move(clock)) {
  if (keys_.empty() || !keys_.front().can_sign()) {
    throw std::invalid_argument("the token issuer needs a signing key");
  }
}

Result<IssuedToken> TokenIssuer::issue(const std::string& subject, Scopes scopes,
                                       const std::string& email) const {
  auto jti = random_id(16);
  if (!jti.ok()) return jti.error();
  const std::int64_t now = clock_();
  const std::string scope = scopes.to_string();
  nlohmann::json permissions = nlohmann::json::array();
  for (Scope each : {Scope::kRead, Scope::kWrite, Scope::kAdmin}) {
    if (scopes.has(each)) permissions.push_back(name_of(each));
  }
  nlohmann::json claims = {{"iss", issuer_}, {"sub", subject}, {"aud", audience_},
                           {"iat", now},     {"nbf", now},     {"exp", now + lifetime_.count()},
                           {"jti", *jti},    {"scope", scope}, {"permissions", permissions}};
  if (!email.empty()) claims["email"] = email;
  auto token = sign_compact(keys_.front(), claims.dump());
  if (!token.ok()) return token.error();
  return IssuedToken{.token = std::move(*token), .expires_in = lifetime_.count(), .scope = scope};
}

nlohmann::json TokenIssuer::jwks() const {
  nlohmann::json keys = nlohmann::json::array();
  for (const Key& key : keys_) {
    if (auto jwk = key.public_jwk()) keys.push_back(*jwk);
  }
  return {{"keys", keys}};
}

TrustedIssuer TokenIssuer::trusted() const {
  std::vector<Algorithm> algorithms;
  for (const Key& key : keys_) {
    if (std::find(algorithms.begin(), algorithms.end(), key.algorithm()) == algorithms.end()) {
      algorithms.push_back(key.algorithm());
    }
  }
  return {.issuer = issuer_,
          .audiences = {audience_},
          .algorithms = std::move(algorithms),
          .keys = std::make_shared<KeySet>(keys_),
          .own = true};
}

}  // namespace esp::auth
