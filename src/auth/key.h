// Signing and verification keys for JWS. A key fixes its algorithm (RFC 8725 section
// 3.1): a token's "alg" header can select a key, never change how a key is used.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace esp::auth {

enum class Algorithm { kHS256, kRS256, kES256 };

std::string_view name_of(Algorithm algorithm);
std::optional<Algorithm> algorithm_named(std::string_view name);

class Key {
 public:
  // HS256 with a shared secret of at least `min_bytes` bytes.
  static Result<Key> hmac(std::string_view secret, std::string kid = {},
                          std::size_t min_bytes = 32);
  // RSA (>= 2048 bits) gives RS256, EC P-256 gives ES256. A private key PEM gives a key
  // that can sign; a public key PEM one that only verifies. Without a kid, the RFC 7638
  // thumbprint is used.
  static Result<Key> from_pem(std::string_view pem, std::string kid = {});
  // A JWK (RFC 7517): "RSA", "EC" (P-256) or "oct". Private members make a signing key.
  static Result<Key> from_jwk(const nlohmann::json& jwk);
  // A fresh RS256 (3072-bit) or ES256 key pair.
  static Result<Key> generate(Algorithm algorithm);

  Key(Key&&) noexcept;
  Key& operator=(Key&&) noexcept;
  Key(const Key&);
  Key& operator=(const Key&);
  ~Key();

  // The same key under another kid; an empty kid matches tokens with any kid or none,
  // for issuers configured with a single PEM key.
  Key with_kid(std::string kid) const;

  Algorithm algorithm() const;
  const std::string& kid() const;
  bool can_sign() const;
  bool is_symmetric() const { return algorithm() == Algorithm::kHS256; }

  // The public JWK with "kid", "alg" and "use": "sig"; nullopt for symmetric keys, whose
  // secret must never be published.
  std::optional<nlohmann::json> public_jwk() const;
  // RFC 7638 JWK thumbprint (SHA-256, base64url).
  std::string thumbprint() const;
  // PKCS#8 PEM of an asymmetric signing key, for storing a generated key.
  Result<std::string> private_pem() const;

  // The JWS signature of `signing_input` (ES256 as the 64-byte r||s of RFC 7518).
  Result<std::string> sign(std::string_view signing_input) const;
  // Constant time for HS256; false for any malformed signature.
  bool verify(std::string_view signing_input, std::string_view signature) const;

 private:
  struct State;
  explicit Key(std::shared_ptr<const State> state);
  std::shared_ptr<const State> state_;
};

}  // namespace esp::auth
