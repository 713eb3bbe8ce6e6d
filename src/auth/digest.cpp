#include "auth/digest.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>

#include "auth/base64url.h"

namespace esp::auth {

std::string sha256(std::string_view data) {
  std::array<unsigned char, 32> digest{};
  std::size_t length = 0;
  if (EVP_Q_digest(nullptr, "SHA256", nullptr, data.data(), data.size(), digest.data(), &length) !=
      1) {
    return {};
  }
  return {reinterpret_cast<const char*>(digest.data()), length};
}

std::string sha256_hex(std::string_view data) {
  constexpr std::string_view kDigits = "0123456789abcdef";
  std::string hex;
  for (unsigned char byte : sha256(data)) {
    hex += kDigits[byte >> 4];
    hex += kDigits[byte & 0xF];
  }
  return hex;
}

Result<std::string> random_id(std::size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
    return Error{Code::kInternal, "no random bytes"};
  }
  return base64url_encode(raw);
}

}  // namespace esp::auth
