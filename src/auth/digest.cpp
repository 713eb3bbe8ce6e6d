#include "auth/digest.h"

#include <openssl/rand.h>

#include "core/base64url.h"

namespace esp::auth {

Result<std::string> random_id(std::size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
    return Error{Code::kInternal, "no random bytes"};
  }
  return base64url_encode(raw);
}

}  // namespace esp::auth
