// Random identifiers, and SHA-256 (core/digest.h) under the names auth has always used.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/digest.h"
#include "core/error.h"

namespace esp::auth {

using esp::sha256;
using esp::sha256_hex;

// `bytes` bytes from OpenSSL's CSPRNG, base64url-encoded: token ids, client ids, secrets.
Result<std::string> random_id(std::size_t bytes);

}  // namespace esp::auth
