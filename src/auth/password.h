// Password and client-secret hashing with Argon2id (Debian's libargon2).
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"

namespace esp::auth {

// An encoded Argon2id hash ("$argon2id$v=19$m=...") with a fresh random salt.
Result<std::string> hash_password(std::string_view password);

// Recomputes and compares in constant time; false for a malformed hash.
bool verify_password(std::string_view encoded_hash, std::string_view password);

// Spends the same time as verify_password against a real hash, so unknown accounts answer
// no faster than wrong passwords.
void verify_against_dummy(std::string_view password);

}  // namespace esp::auth
