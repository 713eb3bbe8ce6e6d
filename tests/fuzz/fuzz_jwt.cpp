// Bearer tokens from a stranger: parsed and verified against a fixed ES256 key and an
// HS256 secret, as espd's own issuer is; never a crash, and never accepted.
#include <cstdint>
#include <string_view>

#include "auth/key.h"
#include "auth/verifier.h"

namespace {

const esp::auth::Verifier& verifier() {
  using namespace esp::auth;
  static const Verifier instance({{.issuer = "http://127.0.0.1:8080/",
                                   .audiences = {"esp"},
                                   .algorithms = {Algorithm::kES256, Algorithm::kHS256},
                                   .keys = std::make_shared<KeySet>(std::vector<Key>{
                                       *Key::generate(Algorithm::kES256),
                                       *Key::hmac("a secret of at least thirty-two bytes!")}),
                                   .own = true}});
  return instance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view token(reinterpret_cast<const char*>(data), size);
  (void)esp::auth::parse_compact(token);
  // A random key signs nothing the fuzzer can know: acceptance would be a forgery.
  if (verifier().verify(token).ok()) __builtin_trap();
  return 0;
}
