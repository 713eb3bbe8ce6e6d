#include "auth/jws.h"

#include <gtest/gtest.h>

#include "core/base64url.h"

namespace esp::auth {
namespace {

using Json = nlohmann::json;

// RFC 7515 appendix A: the same payload signed three ways.
constexpr std::string_view kRfc7515Payload =
    "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}";
constexpr const char* kA1Token =
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    "."
    "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
constexpr const char* kA1Key =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
constexpr const char* kA2N =
    "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-"
    "4qPCJrcS2mJPMEzP1Pt0Bm4d4Ql"
    "L-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-"
    "bSf63kpaSHSXndS5z5rexMdbBYUs"
    "LA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-"
    "DWNmoud"
    "F8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";
constexpr const char* kA2D =
    "Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88vLNO97IjlA7_GQ5sLKMgvfTeXZx9SE-"
    "7YwVol2NXOoAJe"
    "46sui395IW_GO-pWJ1O0BkTGoVEn2bKVRUCgu-GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzjkn439X0M_"
    "V51gfpRLI9J"
    "YanrC4D4qAdGcopV_0ZHHzQlBjudU2QvXt4ehNYTCBr6XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl_x_"
    "jTj3ccPDVZFD9pIuh"
    "LhBOneufuBiB4cS98l2SR_RQyGWSeWjnczT0QU91p1DhOVRuOopznQ";
constexpr const char* kA2Token =
    "eyJhbGciOiJSUzI1NiJ9."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    "."
    "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_"
    "O8W2Fp5jujG"
    "bds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_"
    "nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K"
    "0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-"
    "eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6"
    "LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
constexpr const char* kA3X = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
constexpr const char* kA3Y = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
constexpr const char* kA3D = "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI";
constexpr const char* kA3Token =
    "eyJhbGciOiJFUzI1NiJ9."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    "."
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

// RFC 7520 section 4: "It's a dangerous business, Frodo..." with the hobbiton keys.
constexpr const char* kRfc7520Payload =
    "SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb250by"
    "B0"
    "aGUgcm9hZCwgYW5kIGlmIHlvdSBkb24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hlcmUgeW"
    "91"
    "IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4";
constexpr const char* kBilboN =
    "n4EPtAOCc9AlkeQHPzHStgAbgs7bTZLwUBZdR8_KuKPEHLd4rHVTeT-O-XV2jRojdNhxJWTDvNd7nqQ0VEiZQHz_"
    "AJmSCpMa"
    "JMRBSFKrKb2wqVwGU_NsYOYL-QtiWN2lbzcEe6XC0dApr5ydQLrHqkHHig3RBordaZ6Aj-oBHqFEHYpPe7Tpe-"
    "OfVfHd1E6c"
    "S6M1FZcD1NNLYD5lFHpPI9bTwJlsde3uhGqC0ZCuEHg8lhzwOHrtIQbS0FVbb9k3-tVTU4fg_3L_"
    "vniUFAKwuCLqKnS2BYwd"
    "q_mzSnbLY7h_qixoR7jig3__kRhuaxwUkRz5iaiQkqgc5gHdrNP5zw";
constexpr const char* kRfc7520Rs256Header =
    "eyJhbGciOiJSUzI1NiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9";
constexpr const char* kRfc7520Rs256Signature =
    "MRjdkly7_-"
    "oTPTS3AXP41iQIGKa80A0ZmTuV5MEaHoxnW2e5CZ5NlKtainoFmKZopdHM1O2U4mwzJdQx996ivp83xuglII7P"
    "NDi84wnB-BDkoBwA78185hX-Es4JIwmDLJK3lfWRa-XtL0RnltuYv746iYTh_"
    "qHRD68BNt1uSNCrUCTJDt5aAE6x8wW1Kt9e"
    "Ro4QPocSadnHXFxnt8Is9UzpERV0ePPQdLuW3IS_de3xyIrDaLGdjluPxUAhb6L2aXic1U12podGU0KLUQSE_oI-"
    "ZnmKJ3F4"
    "uOZDnd6QZWJushZ41Axf_fcIe8u9ipH84ogoree7vjbU5y18kDquDg";
constexpr const char* kRfc7520Hs256Header =
    "eyJhbGciOiJIUzI1NiIsImtpZCI6IjAxOGMwYWU1LTRkOWItNDcxYi1iZmQ2LWVlZjMxNGJjNzAzNyJ9";
constexpr const char* kRfc7520Hs256Signature = "s0h6KThzkfBBBkLspW1h84VsJZFTsPPqMDA7g1Md7p0";
constexpr const char* kRfc7520Hs256Key = "hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYg";

Key jwk_key(const Json& jwk) {
  auto key = Key::from_jwk(jwk);
  if (!key.ok()) throw std::runtime_error(key.error().message);
  return *key;
}

Key a1_key() {
  return jwk_key({{"kty", "oct"}, {"k", kA1Key}});
}
Key a2_public() {
  return jwk_key({{"kty", "RSA"}, {"n", kA2N}, {"e", "AQAB"}});
}
Key a3_public() {
  return jwk_key({{"kty", "EC"}, {"crv", "P-256"}, {"x", kA3X}, {"y", kA3Y}});
}

// The same token with its last signature character changed.
std::string tampered(std::string token) {
  token.back() = token.back() == 'A' ? 'B' : 'A';
  return token;
}

void expect_verifies(const std::string& token, const Key& key) {
  auto jws = verify_compact(token, std::span<const Key>(&key, 1));
  ASSERT_TRUE(jws.ok()) << jws.error().message;
  EXPECT_FALSE(verify_compact(tampered(token), std::span<const Key>(&key, 1)).ok());
}

TEST(Rfc7515, A1Hs256Verifies) {
  expect_verifies(kA1Token, a1_key());
  auto jws = parse_compact(kA1Token);
  ASSERT_TRUE(jws.ok());
  EXPECT_EQ(jws->payload, kRfc7515Payload);
}

TEST(Rfc7515, A2Rs256VerifiesAndSigningReproducesTheSignature) {
  expect_verifies(kA2Token, a2_public());
  // PKCS#1 v1.5 is deterministic: signing the same input must give the RFC's bytes.
  Key signer = jwk_key({{"kty", "RSA"}, {"n", kA2N}, {"e", "AQAB"}, {"d", kA2D}});
  ASSERT_TRUE(signer.can_sign());
  std::string_view token = kA2Token;
  auto signing_input = token.substr(0, token.rfind('.'));
  auto signature = signer.sign(signing_input);
  ASSERT_TRUE(signature.ok());
  EXPECT_EQ(base64url_encode(*signature), token.substr(token.rfind('.') + 1));
}

TEST(Rfc7515, A3Es256VerifiesAndItsPrivateKeySignsVerifiably) {
  expect_verifies(kA3Token, a3_public());
  Key signer = jwk_key({{"kty", "EC"}, {"crv", "P-256"}, {"x", kA3X}, {"y", kA3Y}, {"d", kA3D}});
  auto token = sign_compact(signer, kRfc7515Payload);
  ASSERT_TRUE(token.ok());
  Key verifier = a3_public();
  expect_verifies(*token, verifier);
}

TEST(Rfc7520, Section41Rs256Verifies) {
  Key key = jwk_key(
      {{"kty", "RSA"}, {"kid", "bilbo.baggins@hobbiton.example"}, {"n", kBilboN}, {"e", "AQAB"}});
  expect_verifies(
      std::string(kRfc7520Rs256Header) + "." + kRfc7520Payload + "." + kRfc7520Rs256Signature, key);
}

TEST(Rfc7520, Section44Hs256VerifiesByKid) {
  Key key = jwk_key(
      {{"kty", "oct"}, {"kid", "018c0ae5-4d9b-471b-bfd6-eef314bc7037"}, {"k", kRfc7520Hs256Key}});
  std::string token =
      std::string(kRfc7520Hs256Header) + "." + kRfc7520Payload + "." + kRfc7520Hs256Signature;
  expect_verifies(token, key);
  // The same signature with the expected bytes recomputed by our signer.
  auto signature = key.sign(token.substr(0, token.rfind('.')));
  ASSERT_TRUE(signature.ok());
  EXPECT_EQ(base64url_encode(*signature), kRfc7520Hs256Signature);
}

TEST(Rfc7638, ThumbprintOfTheRfcExampleKey) {
  Key key = jwk_key(
      {{"kty", "RSA"},
       {"e", "AQAB"},
       {"n",
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJE"
        "CPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2Q"
        "vzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6"
        "WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}});
  EXPECT_EQ(key.thumbprint(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
  EXPECT_EQ(key.kid(), key.thumbprint());  // the default kid
}

// ---- attacks ----

std::string token_with(const Json& header, std::string_view payload, std::string_view signature) {
  return base64url_encode(header.dump()) + "." + base64url_encode(payload) + "." +
         base64url_encode(signature);
}

Result<CompactJws> verify_with(const std::string& token, const Key& key) {
  return verify_compact(token, std::span<const Key>(&key, 1));
}

TEST(JwsAttacks, AlgNoneIsRefusedInEverySpelling) {
  Key key = a1_key();
  for (const char* none : {"none", "None", "NONE", "nOnE"}) {
    for (std::string_view signature : {"", "x"}) {
      auto token = token_with({{"alg", none}}, "{}", signature);
      EXPECT_FALSE(verify_with(token, key).ok()) << none;
      EXPECT_FALSE(parse_compact(token).ok()) << none;
    }
    // The classic unsigned form "<header>.<payload>." has an empty third segment.
    auto unsigned_token =
        base64url_encode(Json{{"alg", none}}.dump()) + "." + base64url_encode("{}") + ".";
    EXPECT_FALSE(verify_with(unsigned_token, key).ok());
  }
}

TEST(JwsAttacks, RsaPublicKeyUsedAsAnHmacSecretIsRefused) {
  auto generated = Key::generate(Algorithm::kRS256);
  ASSERT_TRUE(generated.ok());
  Key rsa = *generated;
  // The attacker knows the public key and HMACs with its JWK text (or PEM) as the secret.
  std::string public_text = rsa.public_jwk()->dump();
  auto forged_key = Key::hmac(public_text);
  ASSERT_TRUE(forged_key.ok());
  auto forged = sign_compact(*forged_key, "{\"sub\":\"admin\"}", Json{{"kid", rsa.kid()}});
  ASSERT_TRUE(forged.ok());
  EXPECT_FALSE(verify_with(*forged, rsa).ok());
}

TEST(JwsAttacks, UnknownAndHostileKidsFindNoKey) {
  Key key = jwk_key({{"kty", "oct"}, {"kid", "real"}, {"k", kA1Key}});
  Key other = jwk_key({{"kty", "oct"}, {"k", kRfc7520Hs256Key}});  // no kid: the header's stands
  for (const char* kid : {"../../etc/passwd", "' OR '1'='1", "unknown", ""}) {
    auto token = sign_compact(other, "{}", Json{{"kid", kid}});
    ASSERT_TRUE(token.ok());
    ASSERT_EQ(parse_compact(*token)->header["kid"], kid);
    auto result = verify_with(*token, key);
    ASSERT_FALSE(result.ok()) << kid;
    EXPECT_EQ(result.error().code, Code::kUnauthenticated);
  }
}

TEST(Jws, AKeyWithoutKidMatchesAnyKid) {
  Key signer = jwk_key({{"kty", "oct"}, {"kid", "whatever-the-issuer-calls-it"}, {"k", kA1Key}});
  Key configured = signer.with_kid("");
  auto token = sign_compact(signer, "{}");
  ASSERT_TRUE(token.ok());
  EXPECT_TRUE(verify_with(*token, configured).ok());
  auto result = verify_with(tampered(*token), configured);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message, "token signature is invalid");
}

TEST(JwsAttacks, KeyUrlHeadersAreNeverFollowed) {
  Key ours = a1_key();
  auto attacker = Key::generate(Algorithm::kES256);
  ASSERT_TRUE(attacker.ok());
  Json pointers = {{"jku", "http://127.0.0.1:1/jwks.json"},
                   {"x5u", "http://127.0.0.1:1/cert.pem"},
                   {"jwk", *attacker->public_jwk()}};
  auto forged = sign_compact(*attacker, "{}", pointers);
  ASSERT_TRUE(forged.ok());
  EXPECT_FALSE(verify_with(*forged, ours).ok());
  auto genuine = sign_compact(ours, "{}", pointers);  // ours, with the same headers: still ours
  ASSERT_TRUE(genuine.ok());
  EXPECT_TRUE(verify_with(*genuine, ours).ok());
}

TEST(JwsAttacks, MalformedTokensAreRefused) {
  Key key = a1_key();
  std::string good = kA1Token;
  const auto last_dot = good.rfind('.');
  for (const std::string& token : {
           good.substr(0, good.size() - 1),        // truncated signature
           good.substr(0, last_dot),               // two segments
           good.substr(0, last_dot + 1),           // empty signature
           good + ".e30",                          // four segments
           good + ".e30.e30",                      // five (a JWE's shape)
           "." + good.substr(good.find('.') + 1),  // empty header
           good.substr(0, last_dot) + ".+/+/",     // standard base64
           good.substr(0, last_dot) + ".AAAA==",   // padding
           std::string("e30.e30.AAAA"),            // header without alg
           std::string(" ") + good,                // whitespace
       }) {
    EXPECT_FALSE(verify_with(token, key).ok()) << token;
  }
}

TEST(JwsAttacks, DuplicateHeaderMembersAreRefused) {
  std::string header = R"({"alg":"HS256","alg":"none"})";
  auto token = base64url_encode(header) + "." + base64url_encode("{}") + ".AAAA";
  EXPECT_FALSE(parse_compact(token).ok());
}

TEST(JwsAttacks, HugeTokensAreRefusedBeforeDecoding) {
  Key key = a1_key();
  auto token = sign_compact(key, "{\"pad\":\"" + std::string(9000, 'x') + "\"}");
  ASSERT_TRUE(token.ok());
  auto result = verify_with(*token, key);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message, "token too large");
  EXPECT_TRUE(verify_compact(*token, std::span<const Key>(&key, 1), 64 * 1024).ok());
}

TEST(JwsAttacks, Es256WithZeroRAndSIsRefused) {
  Key key = a3_public();
  std::string_view valid = kA3Token;
  std::string token = std::string(valid.substr(0, valid.rfind('.'))) + "." +
                      base64url_encode(std::string(64, '\0'));
  EXPECT_FALSE(verify_with(token, key).ok());
  EXPECT_FALSE(key.verify(valid.substr(0, valid.rfind('.')), std::string(64, '\0')));
  EXPECT_FALSE(key.verify(valid.substr(0, valid.rfind('.')), std::string(63, '\x01')));
}

TEST(JwsAttacks, CriticalExtensionsAreRefused) {
  Key key = a1_key();
  auto token = sign_compact(key, "{}", Json{{"crit", {"exp"}}, {"exp", 1}});
  ASSERT_TRUE(token.ok());
  EXPECT_FALSE(verify_with(*token, key).ok());
}

TEST(JwsAttacks, AnHmacKeyNeverVerifiesRsaOrEcTokens) {
  // A token claiming HS256 is only checked by HS256 keys, and an RS256 token never by them.
  Key hmac = a1_key();
  EXPECT_FALSE(verify_with(kA2Token, hmac).ok());
  EXPECT_FALSE(verify_with(kA3Token, hmac).ok());
  EXPECT_FALSE(verify_with(kA1Token, a2_public()).ok());
}

}  // namespace
}  // namespace esp::auth
