// SHA-256 through OpenSSL EVP, used wherever esp names, keys or signs things.
#pragma once

#include <string>
#include <string_view>

namespace esp {

// The 32-byte digest.
std::string sha256(std::string_view data);
// The digest as 64 lowercase hex digits.
std::string sha256_hex(std::string_view data);

}  // namespace esp
