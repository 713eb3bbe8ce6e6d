// SHA-256 (OpenSSL EVP) and random identifiers, used wherever esp names or keys things.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/error.h"

namespace esp::auth {

// The 32-byte digest.
std::string sha256(std::string_view data);
// The digest as 64 lowercase hex digits.
std::string sha256_hex(std::string_view data);

// `bytes` bytes from OpenSSL's CSPRNG, base64url-encoded: token ids, client ids, secrets.
Result<std::string> random_id(std::size_t bytes);

}  // namespace esp::auth
