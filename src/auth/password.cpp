#include "auth/password.h"

#include <argon2.h>
#include <openssl/rand.h>

#include <array>

namespace esp::auth {
namespace {

// OWASP's minimum for Argon2id: 19 MiB, 2 passes, 1 lane.
constexpr std::uint32_t kTimeCost = 2;
constexpr std::uint32_t kMemoryKiB = 19 * 1024;
constexpr std::uint32_t kLanes = 1;
constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kHashBytes = 32;

}  // namespace

Result<std::string> hash_password(std::string_view password) {
  std::array<unsigned char, kSaltBytes> salt{};
  if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1) {
    return Error{Code::kInternal, "no random bytes for a salt"};
  }
  std::string encoded(
      argon2_encodedlen(kTimeCost, kMemoryKiB, kLanes, kSaltBytes, kHashBytes, Argon2_id), '\0');
  const int status =
      argon2id_hash_encoded(kTimeCost, kMemoryKiB, kLanes, password.data(), password.size(),
                            salt.data(), salt.size(), kHashBytes, encoded.data(), encoded.size());
  if (status != ARGON2_OK) return Error{Code::kInternal, argon2_error_message(status)};
  encoded.resize(encoded.find('\0'));
  return encoded;
}

bool verify_password(std::string_view encoded_hash, std::string_view password) {
  const std::string hash(encoded_hash);  // argon2 wants a NUL-terminated string
  return argon2id_verify(hash.c_str(), password.data(), password.size()) == ARGON2_OK;
}

void verify_against_dummy(std::string_view password) {
  static const std::string dummy = [] {
    auto hash = hash_password("esp-dummy-password");
    return hash.ok() ? *hash : std::string();
  }();
  (void)verify_password(dummy, password);
}

}  // namespace esp::auth
