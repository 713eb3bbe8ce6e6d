// Keys from a JWKS URL, against a real HTTP server on loopback (Python's http.server).
#include "auth/key_set.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "auth/jws.h"
#include "auth/verifier.h"
#include "child_process.h"

namespace esp::auth {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kIdp = "https://idp.test/";

class JwksServer {
 public:
  JwksServer() : directory_(fs::temp_directory_path() / ("jwks-" + std::to_string(getpid()))) {
    fs::create_directories(directory_);
    start();
  }
  ~JwksServer() { fs::remove_all(directory_); }

  void publish(const std::vector<Key>& keys) {
    Json jwks = {{"keys", Json::array()}};
    for (const auto& key : keys)
      jwks["keys"].push_back(*key.public_jwk());
    std::ofstream(directory_ / "jwks.json") << jwks.dump();
  }
  void stop() { process_.reset(); }
  std::string url() const { return "http://127.0.0.1:" + port_ + "/jwks.json"; }

 private:
  void start() {
    process_ = std::make_unique<esp::testing::ChildProcess>(
        std::vector<std::string>{"/usr/bin/python3", "-u", "-m", "http.server", "0", "--bind",
                                 "127.0.0.1", "--directory", directory_.string()});
    std::smatch match;
    std::string line = process_->read_line();  // "Serving HTTP on 127.0.0.1 port 41234 ..."
    if (!std::regex_search(line, match, std::regex("port (\\d+)"))) throw std::runtime_error(line);
    port_ = match[1];
  }

  fs::path directory_;
  std::unique_ptr<esp::testing::ChildProcess> process_;
  std::string port_;
};

struct RemoteIssuer {
  JwksServer server;
  int fetches = 0;
  std::chrono::steady_clock::time_point now{};
  std::shared_ptr<KeySet> keys = std::make_shared<KeySet>(
      server.url(),
      [this](const std::string& url) {
        ++fetches;
        return fetch_url(url, {.timeout = std::chrono::milliseconds(2000)});
      },
      std::chrono::seconds(60), [this] { return now; });
  Verifier verifier{{{.issuer = kIdp,
                      .audiences = {"esp"},
                      .algorithms = {Algorithm::kRS256, Algorithm::kES256},
                      .keys = keys}}};

  Result<Claims> verify_signed_by(const Key& key, const std::string& subject = "alice") {
    Json claims = {{"iss", kIdp}, {"sub", subject}, {"aud", "esp"}, {"exp", unix_now() + 600}};
    return verifier.verify(*sign_compact(key, claims.dump()));
  }
};

TEST(RemoteKeys, FetchedOnceThenServedFromTheCache) {
  RemoteIssuer idp;
  Key a = *Key::generate(Algorithm::kRS256);
  idp.server.publish({a});
  EXPECT_TRUE(idp.verify_signed_by(a, "one").ok());
  EXPECT_TRUE(idp.verify_signed_by(a, "two").ok());
  EXPECT_EQ(idp.fetches, 1);
}

TEST(RemoteKeys, AnUnknownKidRefetchesAtMostOncePerMinute) {
  RemoteIssuer idp;
  Key a = *Key::generate(Algorithm::kES256);
  Key b = *Key::generate(Algorithm::kES256);
  idp.server.publish({a});
  ASSERT_TRUE(idp.verify_signed_by(a).ok());
  idp.server.publish({a, b});  // the issuer rotates
  // Within the minute the new kid is unknown and no fetch happens, however many tokens try.
  EXPECT_FALSE(idp.verify_signed_by(b, "x").ok());
  EXPECT_FALSE(idp.verify_signed_by(b, "y").ok());
  EXPECT_EQ(idp.fetches, 1);
  idp.now += std::chrono::seconds(61);
  EXPECT_TRUE(idp.verify_signed_by(b, "z").ok());
  EXPECT_EQ(idp.fetches, 2);
  Key forged = *Key::generate(Algorithm::kES256);
  EXPECT_FALSE(idp.verify_signed_by(forged, "f1").ok());
  EXPECT_FALSE(idp.verify_signed_by(forged, "f2").ok());
  EXPECT_EQ(idp.fetches, 2);
}

TEST(RemoteKeys, KnownKeysKeepWorkingWhileTheIssuerIsDown) {
  RemoteIssuer idp;
  Key a = *Key::generate(Algorithm::kRS256);
  idp.server.publish({a});
  ASSERT_TRUE(idp.verify_signed_by(a, "before").ok());
  idp.server.stop();
  idp.now += std::chrono::seconds(120);
  EXPECT_TRUE(idp.verify_signed_by(a, "during").ok());
  Key b = *Key::generate(Algorithm::kRS256);
  auto unknown = idp.verify_signed_by(b);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message, "token key id is unknown");
  EXPECT_EQ(idp.fetches, 2);
  EXPECT_TRUE(idp.keys->last_error().has_value());
}

TEST(RemoteKeys, AnIssuerDownFromTheStartIsReported) {
  RemoteIssuer idp;
  idp.server.stop();
  auto result = idp.verify_signed_by(*Key::generate(Algorithm::kRS256));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message.rfind("issuer keys unavailable: fetching keys failed", 0), 0U)
      << result.error().message;
  // Retried at most once a minute, whatever the traffic.
  EXPECT_FALSE(idp.verify_signed_by(*Key::generate(Algorithm::kRS256), "again").ok());
  EXPECT_EQ(idp.fetches, 1);
  idp.now += std::chrono::seconds(61);
  EXPECT_FALSE(idp.verify_signed_by(*Key::generate(Algorithm::kRS256), "later").ok());
  EXPECT_EQ(idp.fetches, 2);
}

TEST(ParseJwks, SkipsKeysItCannotUseAndRefusesEmptySets) {
  Key a = *Key::generate(Algorithm::kES256);
  Json jwks = {
      {"keys",
       {*a.public_jwk(),
        {{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}},
        {{"kty", "oct"}, {"k", "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}}}}};
  auto keys = parse_jwks(jwks.dump());
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 1U);  // the shared secret is never trusted from a JWKS
  EXPECT_EQ(keys->front().kid(), a.kid());
  EXPECT_FALSE(parse_jwks(R"({"keys":[]})").ok());
  EXPECT_FALSE(parse_jwks("[]").ok());
}

}  // namespace
}  // namespace esp::auth
