#include "auth/key.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "auth/jws.h"

namespace esp::auth {
namespace {

std::string pem_of_generated(const char* algorithm, const char* parameter, bool private_part) {
  EVP_PKEY* pkey =
      std::string_view(algorithm) == "RSA"
          ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(std::stoul(parameter)))
          : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", parameter);
  BIO* bio = BIO_new(BIO_s_mem());
  if (private_part) {
    PEM_write_bio_PrivateKey(bio, pkey, nullptr, nullptr, 0, nullptr, nullptr);
  } else {
    PEM_write_bio_PUBKEY(bio, pkey);
  }
  char* data = nullptr;
  long length = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(length));
  BIO_free(bio);
  EVP_PKEY_free(pkey);
  return pem;
}

TEST(Key, HmacSecretsMustBeLongEnough) {
  EXPECT_FALSE(Key::hmac(std::string(31, 'x')).ok());
  auto key = Key::hmac(std::string(32, 'x'), "dev");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->algorithm(), Algorithm::kHS256);
  EXPECT_FALSE(key->public_jwk().has_value());  // a shared secret is never published
}

TEST(Key, GeneratedKeysSignAndPublishVerifiableJwks) {
  for (auto algorithm : {Algorithm::kRS256, Algorithm::kES256}) {
    auto key = Key::generate(algorithm);
    ASSERT_TRUE(key.ok());
    auto jwk = key->public_jwk();
    ASSERT_TRUE(jwk.has_value());
    EXPECT_EQ((*jwk)["alg"], name_of(algorithm));
    EXPECT_EQ((*jwk)["kid"], key->kid());
    EXPECT_FALSE(jwk->contains("d"));
    auto published = Key::from_jwk(*jwk);
    ASSERT_TRUE(published.ok()) << published.error().message;
    EXPECT_FALSE(published->can_sign());
    EXPECT_EQ(published->thumbprint(), key->thumbprint());
    auto token = sign_compact(*key, "{\"sub\":\"a\"}");
    ASSERT_TRUE(token.ok());
    EXPECT_TRUE(verify_compact(*token, std::span<const Key>(&*published, 1)).ok());
  }
}

TEST(Key, PrivatePemRoundTripsToTheSameKey) {
  auto key = Key::generate(Algorithm::kES256);
  ASSERT_TRUE(key.ok());
  auto pem = key->private_pem();
  ASSERT_TRUE(pem.ok());
  auto loaded = Key::from_pem(*pem);
  ASSERT_TRUE(loaded.ok());
  EXPECT_TRUE(loaded->can_sign());
  EXPECT_EQ(loaded->kid(), key->kid());
}

TEST(Key, LoadsPemKeysAndPicksTheAlgorithmFromTheKey) {
  auto rsa = Key::from_pem(pem_of_generated("RSA", "2048", true), "rsa-1");
  ASSERT_TRUE(rsa.ok()) << rsa.error().message;
  EXPECT_EQ(rsa->algorithm(), Algorithm::kRS256);
  EXPECT_EQ(rsa->kid(), "rsa-1");
  EXPECT_TRUE(rsa->can_sign());
  auto ec_public = Key::from_pem(pem_of_generated("EC", "P-256", false));
  ASSERT_TRUE(ec_public.ok());
  EXPECT_EQ(ec_public->algorithm(), Algorithm::kES256);
  EXPECT_FALSE(ec_public->can_sign());
  EXPECT_FALSE(ec_public->sign("x").ok());
}

TEST(Key, RefusesWeakOrUnsupportedKeys) {
  auto small = Key::from_pem(pem_of_generated("RSA", "1024", true));
  ASSERT_FALSE(small.ok());
  EXPECT_EQ(small.error().message, "RSA keys must have at least 2048 bits");
  auto p384 = Key::from_pem(pem_of_generated("EC", "P-384", true));
  ASSERT_FALSE(p384.ok());
  EXPECT_EQ(p384.error().message, "EC keys must be on P-256 (ES256)");
  EXPECT_FALSE(
      Key::from_pem("-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n").ok());
  EXPECT_FALSE(Key::from_pem("").ok());
}

TEST(Key, RefusesMalformedJwks) {
  using Json = nlohmann::json;
  EXPECT_FALSE(Key::from_jwk(Json::array()).ok());
  EXPECT_FALSE(Key::from_jwk({{"kty", "OKP"}}).ok());
  EXPECT_FALSE(Key::from_jwk({{"kty", "RSA"}, {"e", "AQAB"}}).ok());
  EXPECT_FALSE(Key::from_jwk({{"kty", "EC"}, {"crv", "P-384"}, {"x", "AA"}, {"y", "AA"}}).ok());
  // A point that is not on P-256 (invalid-curve attacks) is refused.
  std::string x(43, 'A');
  EXPECT_FALSE(
      Key::from_jwk({{"kty", "EC"}, {"crv", "P-256"}, {"x", x + "E"}, {"y", x + "I"}}).ok());
  // The declared alg must match the key type.
  auto ec = Key::generate(Algorithm::kES256);
  auto jwk = *ec->public_jwk();
  jwk["alg"] = "HS256";
  EXPECT_FALSE(Key::from_jwk(jwk).ok());
}

TEST(Algorithm, NamesAreExactAndCaseSensitive) {
  EXPECT_EQ(algorithm_named("RS256"), Algorithm::kRS256);
  EXPECT_FALSE(algorithm_named("rs256").has_value());
  EXPECT_FALSE(algorithm_named("none").has_value());
  EXPECT_FALSE(algorithm_named("HS512").has_value());
}

}  // namespace
}  // namespace esp::auth
