// All cryptography goes through OpenSSL 3 EVP; this file only adapts formats (PEM, JWK,
// the raw r||s form of ES256 signatures).
#include "auth/key.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <array>

#include "auth/digest.h"
#include "core/base64url.h"

namespace esp::auth {
namespace {

using Json = nlohmann::json;

template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* pointer) const {
    Free(pointer);
  }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM_free>>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG_free>>;

constexpr std::size_t kEs256Half = 32;
constexpr int kMinRsaBits = 2048;
constexpr int kGeneratedRsaBits = 3072;

Error invalid(std::string message) {
  return Error{Code::kInvalidArgument, std::move(message)};
}

const unsigned char* bytes(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

std::string bn_bytes(const BIGNUM* bn, int width = 0) {
  const int size = width > 0 ? width : BN_num_bytes(bn);
  std::string out(static_cast<std::size_t>(size), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), size);
  return out;
}

std::string bn_param(const EVP_PKEY* pkey, const char* name, int width = 0) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &raw) != 1) return {};
  BnPtr bn(raw);
  return bn_bytes(bn.get(), width);
}

bool has_private_part(const EVP_PKEY* pkey) {
  BIGNUM* raw = nullptr;
  const char* name = EVP_PKEY_is_a(pkey, "RSA") ? OSSL_PKEY_PARAM_RSA_D : OSSL_PKEY_PARAM_PRIV_KEY;
  if (EVP_PKEY_get_bn_param(pkey, name, &raw) != 1) return false;
  BN_clear_free(raw);
  return true;
}

// The algorithm an asymmetric key implies, or why it cannot be used.
Result<Algorithm> algorithm_of(const EVP_PKEY* pkey) {
  if (EVP_PKEY_is_a(pkey, "RSA")) {
    if (EVP_PKEY_get_bits(pkey) < kMinRsaBits) {
      return invalid("RSA keys must have at least 2048 bits");
    }
    return Algorithm::kRS256;
  }
  if (EVP_PKEY_is_a(pkey, "EC")) {
    std::array<char, 64> group{};
    std::size_t length = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group.data(), group.size(),
                                       &length) != 1 ||
        std::string_view(group.data(), length) != "prime256v1") {
      return invalid("EC keys must be on P-256 (ES256)");
    }
    return Algorithm::kES256;
  }
  return invalid("keys must be RSA or EC P-256");
}

// ECDSA signatures: OpenSSL speaks DER, JWS the fixed-width r||s (RFC 7518 section 3.4).
std::optional<std::string> der_to_raw(std::string_view der) {
  const unsigned char* cursor = bytes(der);
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(der.size())));
  if (!sig) return std::nullopt;
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  return bn_bytes(r, kEs256Half) + bn_bytes(s, kEs256Half);
}

std::optional<std::string> raw_to_der(std::string_view raw) {
  if (raw.size() != 2 * kEs256Half) return std::nullopt;
  BnPtr r(BN_bin2bn(bytes(raw), kEs256Half, nullptr));
  BnPtr s(BN_bin2bn(bytes(raw) + kEs256Half, kEs256Half, nullptr));
  // r = s = 0 verifies against every message in some implementations (CVE-2022-21449).
  if (!r || !s || BN_is_zero(r.get()) || BN_is_zero(s.get())) return std::nullopt;
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (!sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) return std::nullopt;
  r.release();
  s.release();
  unsigned char* der = nullptr;
  const int length = i2d_ECDSA_SIG(sig.get(), &der);
  if (length <= 0) return std::nullopt;
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(length));
  OPENSSL_free(der);
  return out;
}

std::optional<std::string> hmac_sha256(std::string_view secret, std::string_view data) {
  std::array<unsigned char, 32> mac{};
  std::size_t length = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, secret.data(), secret.size(),
                bytes(data), data.size(), mac.data(), mac.size(), &length) == nullptr) {
    return std::nullopt;
  }
  return std::string(reinterpret_cast<const char*>(mac.data()), length);
}

Result<PkeyPtr> pkey_from_params(const char* type, OSSL_PARAM_BLD* builder, bool with_private) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(builder));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, with_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
                        params.get()) != 1) {
    return invalid(std::string("not a valid ") + type + " key");
  }
  PkeyPtr pkey(raw);
  // Refuse points off the curve and malformed moduli before any use.
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    return invalid(std::string("not a valid ") + type + " public key");
  }
  return pkey;
}

std::optional<std::string> member_bytes(const Json& jwk, const char* name) {
  auto it = jwk.find(name);
  if (it == jwk.end() || !it->is_string()) return std::nullopt;
  return base64url_decode(it->get_ref<const std::string&>());
}

bool push_bn(OSSL_PARAM_BLD* builder, const char* name, const std::string& value,
             std::vector<BnPtr>& keep) {
  keep.emplace_back(BN_bin2bn(bytes(value), static_cast<int>(value.size()), nullptr));
  return keep.back() && OSSL_PARAM_BLD_push_BN(builder, name, keep.back().get()) == 1;
}

Result<PkeyPtr> rsa_from_jwk(const Json& jwk) {
  auto n = member_bytes(jwk, "n");
  auto e = member_bytes(jwk, "e");
  if (!n || !e || n->empty() || e->empty()) return invalid("RSA JWK needs base64url n and e");
  auto d = member_bytes(jwk, "d");
  ParamBldPtr builder(OSSL_PARAM_BLD_new());
  std::vector<BnPtr> keep;
  if (!builder || !push_bn(builder.get(), OSSL_PKEY_PARAM_RSA_N, *n, keep) ||
      !push_bn(builder.get(), OSSL_PKEY_PARAM_RSA_E, *e, keep) ||
      (d && !push_bn(builder.get(), OSSL_PKEY_PARAM_RSA_D, *d, keep))) {
    return invalid("RSA JWK could not be read");
  }
  return pkey_from_params("RSA", builder.get(), d.has_value());
}

Result<PkeyPtr> ec_from_jwk(const Json& jwk) {
  if (jwk.value("crv", "") != "P-256") return invalid("EC JWK must use crv P-256");
  auto x = member_bytes(jwk, "x");
  auto y = member_bytes(jwk, "y");
  if (!x || !y || x->size() != kEs256Half || y->size() != kEs256Half) {
    return invalid("EC JWK needs 32-byte base64url x and y");
  }
  auto d = member_bytes(jwk, "d");
  std::string point = "\x04" + *x + *y;
  ParamBldPtr builder(OSSL_PARAM_BLD_new());
  std::vector<BnPtr> keep;
  if (!builder ||
      OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1 ||
      (d && !push_bn(builder.get(), OSSL_PKEY_PARAM_PRIV_KEY, *d, keep))) {
    return invalid("EC JWK could not be read");
  }
  return pkey_from_params("EC", builder.get(), d.has_value());
}

}  // namespace

struct Key::State {
  Algorithm algorithm = Algorithm::kHS256;
  std::string kid;
  std::string secret;  // HS256 only
  PkeyPtr pkey;        // RS256 and ES256
  bool can_sign = false;

  ~State() { OPENSSL_cleanse(secret.data(), secret.size()); }
};

std::string_view name_of(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kHS256:
      return "HS256";
    case Algorithm::kRS256:
      return "RS256";
    case Algorithm::kES256:
      return "ES256";
  }
  return "?";
}

// Exact, case-sensitive names (RFC 7515 section 4.1.1): "none", "None" or "hs256" match nothing.
std::optional<Algorithm> algorithm_named(std::string_view name) {
  for (auto algorithm : {Algorithm::kHS256, Algorithm::kRS256, Algorithm::kES256}) {
    if (name == name_of(algorithm)) return algorithm;
  }
  return std::nullopt;
}

Key::Key(std::shared_ptr<const State> state) : state_(std::move(state)) {}
Key::Key(Key&&) noexcept = default;
Key& Key::operator=(Key&&) noexcept = default;
Key::Key(const Key&) = default;
Key& Key::operator=(const Key&) = default;
Key::~Key() = default;

Key Key::with_kid(std::string kid) const {
  auto state = std::make_shared<State>();
  state->algorithm = state_->algorithm;
  state->secret = state_->secret;
  state->can_sign = state_->can_sign;
  state->kid = std::move(kid);
  if (state_->pkey) {
    EVP_PKEY_up_ref(state_->pkey.get());
    state->pkey.reset(state_->pkey.get());
  }
  return Key(std::move(state));
}

Algorithm Key::algorithm() const {
  return state_->algorithm;
}
const std::string& Key::kid() const {
  return state_->kid;
}
bool Key::can_sign() const {
  return state_->can_sign;
}

Result<Key> Key::hmac(std::string_view secret, std::string kid, std::size_t min_bytes) {
  if (secret.size() < min_bytes) {
    return invalid("HS256 secrets must have at least " + std::to_string(min_bytes) + " bytes");
  }
  auto state = std::make_shared<State>();
  state->algorithm = Algorithm::kHS256;
  state->secret = std::string(secret);
  state->can_sign = true;
  state->kid = std::move(kid);
  return Key(std::move(state));
}

Result<Key> Key::from_pem(std::string_view pem, std::string kid) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  PkeyPtr pkey(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  bool is_private = pkey != nullptr;
  if (!pkey) {
    bio.reset(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    pkey.reset(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  }
  if (!pkey) return invalid("not a PEM private key or public key");
  auto algorithm = algorithm_of(pkey.get());
  if (!algorithm.ok()) return algorithm.error();
  auto state = std::make_shared<State>();
  state->algorithm = *algorithm;
  state->pkey = std::move(pkey);
  state->can_sign = is_private;
  Key key(state);
  state->kid = kid.empty() ? key.thumbprint() : std::move(kid);
  return key;
}

Result<Key> Key::from_jwk(const Json& jwk) {
  if (!jwk.is_object()) return invalid("a JWK must be a JSON object");
  const std::string kty = jwk.value("kty", "");
  std::string kid =
      jwk.contains("kid") && jwk["kid"].is_string() ? jwk["kid"].get<std::string>() : "";
  if (kty == "oct") {
    auto k = member_bytes(jwk, "k");
    if (!k) return invalid("oct JWK needs a base64url k");
    return hmac(*k, kid);
  }
  Result<PkeyPtr> pkey = kty == "RSA"  ? rsa_from_jwk(jwk)
                         : kty == "EC" ? ec_from_jwk(jwk)
                                       : Result<PkeyPtr>(invalid("JWK kty must be RSA, EC or oct"));
  if (!pkey.ok()) return pkey.error();
  auto algorithm = algorithm_of(pkey->get());
  if (!algorithm.ok()) return algorithm.error();
  if (jwk.contains("alg") && jwk["alg"] != name_of(*algorithm)) {
    return invalid("JWK alg does not match its key type");
  }
  auto state = std::make_shared<State>();
  state->algorithm = *algorithm;
  state->can_sign = has_private_part(pkey->get());
  state->pkey = std::move(*pkey);
  Key key(state);
  state->kid = kid.empty() ? key.thumbprint() : std::move(kid);
  return key;
}

Result<Key> Key::generate(Algorithm algorithm) {
  PkeyPtr pkey;
  if (algorithm == Algorithm::kRS256) {
    pkey.reset(EVP_RSA_gen(kGeneratedRsaBits));
  } else if (algorithm == Algorithm::kES256) {
    pkey.reset(EVP_EC_gen("P-256"));
  } else {
    return invalid("only RS256 and ES256 keys are generated");
  }
  if (!pkey) return Error{Code::kInternal, "key generation failed"};
  auto state = std::make_shared<State>();
  state->algorithm = algorithm;
  state->pkey = std::move(pkey);
  state->can_sign = true;
  Key key(state);
  state->kid = key.thumbprint();
  return key;
}

std::optional<Json> Key::public_jwk() const {
  if (is_symmetric()) return std::nullopt;
  const EVP_PKEY* pkey = state_->pkey.get();
  Json jwk;
  if (algorithm() == Algorithm::kRS256) {
    jwk = {{"kty", "RSA"},
           {"n", base64url_encode(bn_param(pkey, OSSL_PKEY_PARAM_RSA_N))},
           {"e", base64url_encode(bn_param(pkey, OSSL_PKEY_PARAM_RSA_E))}};
  } else {
    jwk = {{"kty", "EC"},
           {"crv", "P-256"},
           {"x", base64url_encode(bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, kEs256Half))},
           {"y", base64url_encode(bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, kEs256Half))}};
  }
  jwk["kid"] = kid();
  jwk["alg"] = name_of(algorithm());
  jwk["use"] = "sig";
  return jwk;
}

std::string Key::thumbprint() const {
  // RFC 7638: the required members only, sorted, no whitespace; nlohmann sorts keys.
  Json members;
  if (is_symmetric()) {
    members = {{"kty", "oct"}, {"k", base64url_encode(state_->secret)}};
  } else {
    Json jwk = *public_jwk();
    for (const char* name : {"kty", "n", "e", "crv", "x", "y"}) {
      if (jwk.contains(name)) members[name] = jwk[name];
    }
  }
  return base64url_encode(sha256(members.dump()));
}

Result<std::string> Key::private_pem() const {
  if (is_symmetric() || !can_sign())
    return invalid("only asymmetric signing keys have a private PEM");
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), state_->pkey.get(), nullptr, nullptr, 0, nullptr,
                                       nullptr) != 1) {
    return Error{Code::kInternal, "could not write the private key"};
  }
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(length));
}

Result<std::string> Key::sign(std::string_view signing_input) const {
  if (!can_sign()) return invalid("this key can only verify");
  if (is_symmetric()) {
    auto mac = hmac_sha256(state_->secret, signing_input);
    if (!mac) return Error{Code::kInternal, "HMAC failed"};
    return *mac;
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  std::size_t length = 0;
  if (!ctx ||
      EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, state_->pkey.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &length, bytes(signing_input), signing_input.size()) !=
          1) {
    return Error{Code::kInternal, "signing failed"};
  }
  std::string signature(length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                     bytes(signing_input), signing_input.size()) != 1) {
    return Error{Code::kInternal, "signing failed"};
  }
  signature.resize(length);
  if (algorithm() == Algorithm::kRS256) return signature;
  auto raw = der_to_raw(signature);
  if (!raw) return Error{Code::kInternal, "signing failed"};
  return *raw;
}

bool Key::verify(std::string_view signing_input, std::string_view signature) const {
  if (is_symmetric()) {
    auto expected = hmac_sha256(state_->secret, signing_input);
    return expected && expected->size() == signature.size() &&
           CRYPTO_memcmp(expected->data(), signature.data(), signature.size()) == 0;
  }
  std::string der;
  if (algorithm() == Algorithm::kES256) {
    auto converted = raw_to_der(signature);
    if (!converted) return false;
    der = std::move(*converted);
    signature = der;
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  return ctx &&
         EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, state_->pkey.get()) == 1 &&
         EVP_DigestVerify(ctx.get(), bytes(signature), signature.size(), bytes(signing_input),
                          signing_input.size()) == 1;
}

}  // namespace esp::auth
