// JWS compact serialization (RFC 7515 section 7.1): signing, strict parsing, and
// signature verification against a set of keys.
#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>

#include "auth/key.h"
#include "core/error.h"

namespace esp::auth {

// Tokens longer than this are refused before any decoding (RFC 8725 section 3.11).
inline constexpr std::size_t kMaxTokenBytes = 8192;

// A split and decoded JWS; nothing in it is trusted until verify_compact returns it.
struct CompactJws {
  nlohmann::json header;
  std::string payload;
  std::string signature;
  std::string signing_input;  // the first two segments, exactly as received
};

// "<header>.<payload>.<signature>" with header {"alg", "typ": "JWT", "kid" when the key
// has one} plus `extra_header` members.
Result<std::string> sign_compact(const Key& key, std::string_view payload,
                                 const nlohmann::json& extra_header = nlohmann::json::object());

// Splits and decodes. Refuses: tokens over `max_bytes`, anything but three non-empty
// segments, non-canonical base64url, a header that is not a JSON object with unique
// keys, an "alg" esp does not implement ("none" in any spelling included), and any
// "crit" header, since esp understands no JWS extensions.
Result<CompactJws> parse_compact(std::string_view token, std::size_t max_bytes = kMaxTokenBytes);

enum class SignatureCheck { kValid, kUnknownKid, kInvalid };

// The signature of a parsed token against `keys` (the rules of verify_compact below).
// kUnknownKid: the token names a kid none of the keys has.
SignatureCheck check_signature(const CompactJws& jws, std::span<const Key> keys);
// The kUnauthenticated error for a failed check.
Error signature_error(SignatureCheck check);

// parse_compact, then the signature. The key is chosen by "kid" when the header has one
// (keys without a kid match any), otherwise every key is tried; a key verifies only with its own
// algorithm, whatever "alg" claims. "jku", "x5u", "jwk" and "x5c" headers are never used to find
// keys.
Result<CompactJws> verify_compact(std::string_view token, std::span<const Key> keys,
                                  std::size_t max_bytes = kMaxTokenBytes);

}  // namespace esp::auth
