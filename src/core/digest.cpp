#include "core/digest.h"

#include <openssl/evp.h>

#include <array>

namespace esp {

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

}  // namespace esp
