#include "auth/verifier.h"

#include <gtest/gtest.h>

#include "auth/issuer.h"
#include "auth/jws.h"
#include "core/base64url.h"

namespace esp::auth {
namespace {

using Json = nlohmann::json;
using std::chrono::seconds;

constexpr std::int64_t kNow = 1'800'000'000;
constexpr const char* kIssuer = "https://esp.test/";

struct Fixture {
  std::int64_t now = kNow;
  Key key = *Key::generate(Algorithm::kES256);
  UnixClock clock = [this] { return now; };
  TokenIssuer issuer{kIssuer, "esp", {key}, seconds(3600), clock};
  Verifier verifier{{issuer.trusted()}, {}, clock};

  // A token signed by our key with exactly these claims.
  std::string token(const Json& claims) const { return *sign_compact(key, claims.dump()); }
  Json valid_claims() const {
    return {{"iss", kIssuer}, {"sub", "alice"}, {"aud", "esp"}, {"iat", now}, {"exp", now + 600}};
  }
  std::string reason(const Json& claims) const {
    auto result = verifier.verify(token(claims));
    return result.ok() ? "accepted" : result.error().message;
  }
};

TEST(Verifier, AcceptsTheIssuersOwnTokensWithEveryClaim) {
  Fixture f;
  auto issued = f.issuer.issue("alice", Scopes::parse("esp:read esp:write"), "alice@example.com");
  ASSERT_TRUE(issued.ok());
  EXPECT_EQ(issued->expires_in, 3600);
  EXPECT_EQ(issued->scope, "esp:read esp:write");
  auto claims = f.verifier.verify(issued->token);
  ASSERT_TRUE(claims.ok()) << claims.error().message;
  EXPECT_EQ(claims->issuer, kIssuer);
  EXPECT_EQ(claims->subject, "alice");
  EXPECT_EQ(claims->email, "alice@example.com");
  EXPECT_EQ(claims->audience, std::vector<std::string>{"esp"});
  EXPECT_EQ(claims->expires_at, kNow + 3600);
  EXPECT_EQ(claims->issued_at, kNow);
  EXPECT_EQ(claims->not_before, kNow);
  EXPECT_FALSE(claims->token_id.empty());
  EXPECT_TRUE(claims->scopes.has(Scope::kRead));
  EXPECT_TRUE(claims->scopes.has(Scope::kWrite));
  EXPECT_FALSE(claims->scopes.has(Scope::kAdmin));
  EXPECT_EQ(claims->all["permissions"], Json({"esp:read", "esp:write"}));
}

TEST(Verifier, EveryIssuedTokenHasItsOwnId) {
  Fixture f;
  auto a = f.issuer.issue("alice", Scopes::all());
  auto b = f.issuer.issue("alice", Scopes::all());
  EXPECT_NE(f.verifier.verify(a->token)->token_id, f.verifier.verify(b->token)->token_id);
}

TEST(Verifier, ChecksTimesWithLeeway) {
  Fixture f;
  auto claims = f.valid_claims();
  EXPECT_EQ(f.reason(claims), "accepted");
  claims["exp"] = kNow - 61;
  EXPECT_EQ(f.reason(claims), "token expired");
  claims["exp"] = kNow - 59;  // within the 60 s leeway
  EXPECT_EQ(f.reason(claims), "accepted");
  claims = f.valid_claims();
  claims["nbf"] = kNow + 61;
  EXPECT_EQ(f.reason(claims), "token not yet valid");
  claims["nbf"] = kNow + 30;
  EXPECT_EQ(f.reason(claims), "accepted");
  claims = f.valid_claims();
  claims["iat"] = kNow + 3600;
  EXPECT_EQ(f.reason(claims), "token issued in the future");
  claims = f.valid_claims();
  claims.erase("exp");
  EXPECT_EQ(f.reason(claims), "token has no expiry");
  claims = f.valid_claims();
  claims["exp"] = "tomorrow";
  EXPECT_EQ(f.reason(claims), "token claims are malformed");
}

TEST(Verifier, ChecksIssuerAudienceAndSubject) {
  Fixture f;
  auto claims = f.valid_claims();
  claims["iss"] = "https://evil.test/";
  EXPECT_EQ(f.reason(claims), "token issuer is not trusted");
  claims.erase("iss");
  EXPECT_EQ(f.reason(claims), "token has no issuer");
  claims = f.valid_claims();
  claims["aud"] = "someone-else";
  EXPECT_EQ(f.reason(claims), "token audience is not accepted");
  claims["aud"] = Json{"someone-else", "esp"};
  EXPECT_EQ(f.reason(claims), "accepted");
  claims.erase("aud");
  EXPECT_EQ(f.reason(claims), "token audience is not accepted");
  claims = f.valid_claims();
  claims.erase("sub");
  EXPECT_EQ(f.reason(claims), "token claims are malformed");
}

TEST(Verifier, RefusesDuplicateClaims) {
  Fixture f;
  std::string payload =
      R"({"iss":"https://esp.test/","sub":"alice","sub":"admin","aud":"esp","exp":)" +
      std::to_string(kNow + 600) + "}";
  auto result = f.verifier.verify(*sign_compact(f.key, payload));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message, "token payload is not a JSON object with unique claims");
}

TEST(Verifier, AlgorithmsAreAllowedPerIssuer) {
  Fixture f;
  auto trusted = f.issuer.trusted();
  trusted.algorithms = {Algorithm::kRS256};
  Verifier strict({trusted}, {}, f.clock);
  auto result = strict.verify(f.token(f.valid_claims()));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message, "token algorithm is not allowed for its issuer");
}

TEST(Verifier, CachedTokensStillExpire) {
  Fixture f;
  auto token = f.token(f.valid_claims());
  ASSERT_TRUE(f.verifier.verify(token).ok());
  ASSERT_TRUE(f.verifier.verify(token).ok());  // from the cache
  f.now += 600 + 61;
  auto result = f.verifier.verify(token);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message, "token expired");
}

TEST(Verifier, ACachedTokenIsNotConfusedWithATamperedOne) {
  Fixture f;
  auto token = f.token(f.valid_claims());
  ASSERT_TRUE(f.verifier.verify(token).ok());
  std::string tampered = token;
  tampered[tampered.size() - 2] = tampered[tampered.size() - 2] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(f.verifier.verify(tampered).ok());
}

TEST(Verifier, RotatedKeysKeepVerifyingWhileTheNewestSigns) {
  Fixture f;
  auto old_token = f.issuer.issue("alice", Scopes::all());
  Key newer = *Key::generate(Algorithm::kRS256);
  TokenIssuer rotated(kIssuer, "esp", {newer, f.key}, seconds(3600), f.clock);
  Verifier verifier({rotated.trusted()}, {}, f.clock);
  EXPECT_TRUE(verifier.verify(old_token->token).ok());
  auto new_token = rotated.issue("bob", Scopes::all());
  EXPECT_EQ(parse_compact(new_token->token)->header["kid"], newer.kid());
  EXPECT_TRUE(verifier.verify(new_token->token).ok());
  EXPECT_EQ(rotated.jwks()["keys"].size(), 2U);
}

TEST(Scopes, AllEspMeansAllThreeAndUnknownScopesAreIgnored) {
  EXPECT_EQ(Scopes::parse("all:esp"), Scopes::all());
  EXPECT_EQ(Scopes::parse("openid esp:admin profile").to_string(), "esp:admin");
  EXPECT_EQ(Scopes::parse("esp:reader").to_string(), "");
  EXPECT_EQ(Scopes::parse("").to_string(), "");
  Fixture f;
  auto claims = f.valid_claims();
  claims["permissions"] = Json{"esp:write"};
  claims["scope"] = "esp:read";
  auto verified = f.verifier.verify(f.token(claims));
  ASSERT_TRUE(verified.ok());
  EXPECT_EQ(verified->scopes.to_string(), "esp:read esp:write");
}

TEST(TokenIssuer, NeedsASigningKeyAndNeverPublishesSecrets) {
  EXPECT_THROW(TokenIssuer("i", "a", {}, seconds(60)), std::invalid_argument);
  auto hmac = Key::hmac(std::string(32, 's'), "dev");
  TokenIssuer issuer("i", "a", {*hmac}, seconds(60));
  EXPECT_TRUE(issuer.jwks()["keys"].empty());
}

}  // namespace
}  // namespace esp::auth
