// Keys from a JWKS URL, against a real HTTP server on loopback (Python's http.server).
#include "auth/key_set.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <regex>
#include <thread>

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

  // Publishes `keys`, with `cache_control` as the answer's header (none when empty).
  void publish(const std::vector<Key>& keys, const std::string& cache_control = "") {
    Json jwks = {{"keys", Json::array()}};
    for (const auto& key : keys)
      jwks["keys"].push_back(*key.public_jwk());
    std::ofstream(directory_ / "cache-control") << cache_control;
    if (cache_control.empty()) fs::remove(directory_ / "cache-control");
    std::ofstream(directory_ / "jwks.json") << jwks.dump();
  }
  void stop() { process_.reset(); }
  std::string url() const { return "http://127.0.0.1:" + port_ + "/jwks.json"; }

 private:
  void start() {
    process_ = std::make_unique<esp::testing::ChildProcess>(std::vector<std::string>{
        "/usr/bin/python3", "-u", ESP_TEST_SUPPORT_DIR "/jwks_server.py", directory_.string()});
    std::smatch match;
    std::string line = process_->read_line();  // "port 41234"
    if (!std::regex_search(line, match, std::regex("port (\\d+)"))) throw std::runtime_error(line);
    port_ = match[1];
  }

  fs::path directory_;
  std::unique_ptr<esp::testing::ChildProcess> process_;
  std::string port_;
};

constexpr auto kWait = std::chrono::milliseconds(10'000);

// An issuer whose JWKS the test controls. The key set is made once the test has
// published (it fetches at once); `gate`, when set, holds every fetch until released.
struct RemoteIssuer {
  JwksServer server;
  std::atomic<int> fetches{0};
  std::shared_ptr<std::shared_future<void>> gate;
  std::shared_ptr<KeySet> keys;
  std::unique_ptr<Verifier> verifier;

  void connect(RemoteKeyOptions options) {
    keys = std::make_shared<KeySet>(
        server.url(),
        [this](const std::string& url) {
          if (gate) gate->wait();
          auto fetched = fetch_url(url, {.timeout = std::chrono::milliseconds(2000)});
          ++fetches;
          return fetched;
        },
        options);
    verifier = std::make_unique<Verifier>(
        std::vector<TrustedIssuer>{{.issuer = kIdp,
                                    .audiences = {"esp"},
                                    .algorithms = {Algorithm::kRS256, Algorithm::kES256},
                                    .keys = keys}});
  }

  Result<Claims> verify_signed_by(const Key& key, const std::string& subject = "alice") {
    Json claims = {{"iss", kIdp}, {"sub", subject}, {"aud", "esp"}, {"exp", unix_now() + 600}};
    return verifier->verify(*sign_compact(key, claims.dump()));
  }
};

TEST(RemoteKeys, FetchedAtStartThenServedFromTheCache) {
  RemoteIssuer idp;
  Key a = *Key::generate(Algorithm::kRS256);
  idp.server.publish({a}, "public, max-age=3600");
  idp.connect({});
  ASSERT_TRUE(idp.keys->wait_for_fetches(1, kWait));
  EXPECT_TRUE(idp.verify_signed_by(a, "one").ok());
  EXPECT_TRUE(idp.verify_signed_by(a, "two").ok());
  EXPECT_EQ(idp.fetches, 1);
}

TEST(RemoteKeys, ARemovedKeyStopsVerifyingWhenTheDocumentsMaxAgeRunsOut) {
  RemoteIssuer idp;
  Key a = *Key::generate(Algorithm::kES256);
  Key b = *Key::generate(Algorithm::kES256);
  idp.server.publish({a}, "max-age=1");
  idp.connect({.min_refresh = std::chrono::seconds(0)});
  ASSERT_TRUE(idp.keys->wait_for_fetches(1, kWait));
  ASSERT_TRUE(idp.verify_signed_by(a).ok());
  idp.server.publish({b}, "max-age=1");               // a is revoked
  ASSERT_TRUE(idp.keys->wait_for_fetches(2, kWait));  // by its max-age, nobody asked
  auto revoked = idp.verify_signed_by(a);
  ASSERT_FALSE(revoked.ok());
  EXPECT_EQ(revoked.error().message, "token key id is unknown");
  EXPECT_TRUE(idp.verify_signed_by(b).ok());
}

TEST(RemoteKeys, WithoutCacheControlTheDefaultLifetimeApplies) {
  RemoteIssuer idp;
  Key a = *Key::generate(Algorithm::kRS256);
  idp.server.publish({a});
  idp.connect(
      {.default_lifetime = std::chrono::seconds(1), .min_refresh = std::chrono::seconds(0)});
  ASSERT_TRUE(idp.keys->wait_for_fetches(1, kWait));
  ASSERT_TRUE(idp.keys->wait_for_fetches(2, kWait));
  EXPECT_GE(idp.fetches, 2);
  EXPECT_EQ(max_age_of("public, max-age=300"), std::chrono::seconds(300));
  EXPECT_EQ(max_age_of("no-store"), std::chrono::seconds(0));
  EXPECT_EQ(max_age_of("public"), std::nullopt);
}

TEST(RemoteKeys, AnUnknownKidAsksForAnEarlyFetchAtMostOncePerMinRefresh) {
  RemoteIssuer idp;
  Key a = *Key::generate(Algorithm::kES256);
  Key b = *Key::generate(Algorithm::kES256);
  idp.server.publish({a}, "max-age=3600");
  idp.connect({.min_refresh = std::chrono::seconds(1)});
  ASSERT_TRUE(idp.keys->wait_for_fetches(1, kWait));
  idp.server.publish({a, b}, "max-age=3600");       // the issuer rotates
  EXPECT_FALSE(idp.verify_signed_by(b, "x").ok());  // unknown: a fetch is asked for
  ASSERT_TRUE(idp.keys->wait_for_fetches(2, kWait));
  EXPECT_TRUE(idp.verify_signed_by(b, "retried").ok());
  EXPECT_EQ(idp.fetches, 2);
  // Forged kids ask again and again; at most one fetch per min_refresh follows.
  Key forged = *Key::generate(Algorithm::kES256);
  for (int i = 0; i < 50; ++i)
    EXPECT_FALSE(idp.verify_signed_by(forged, "f").ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_LE(idp.fetches, 3);
}

TEST(RemoteKeys, VerifyingNeverWaitsForAFetch) {
  RemoteIssuer idp;
  Key a = *Key::generate(Algorithm::kRS256);
  idp.server.publish({a}, "max-age=3600");
  std::promise<void> release;
  idp.gate = std::make_shared<std::shared_future<void>>(release.get_future().share());
  idp.connect({});
  // The first fetch hangs; tokens are answered at once (keys are not there yet).
  auto waiting = idp.verify_signed_by(a);
  ASSERT_FALSE(waiting.ok());
  EXPECT_EQ(waiting.error().message.rfind("issuer keys unavailable", 0), 0U)
      << waiting.error().message;
  release.set_value();  // the fetch in progress ends; its keys serve the next token
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (idp.keys->current()->empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(idp.verify_signed_by(a).ok());
}

TEST(RemoteKeys, KnownKeysKeepWorkingWhileTheIssuerIsDown) {
  RemoteIssuer idp;
  Key a = *Key::generate(Algorithm::kRS256);
  idp.server.publish({a}, "max-age=1");
  idp.connect({.min_refresh = std::chrono::seconds(0)});
  ASSERT_TRUE(idp.keys->wait_for_fetches(1, kWait));
  ASSERT_TRUE(idp.verify_signed_by(a, "before").ok());
  idp.server.stop();
  ASSERT_TRUE(idp.keys->wait_for_fetches(2, kWait));  // fails
  EXPECT_TRUE(idp.verify_signed_by(a, "during").ok());
  EXPECT_TRUE(idp.keys->last_error().has_value());
}

TEST(RemoteKeys, AnIssuerDownFromTheStartIsReported) {
  RemoteIssuer idp;
  idp.server.stop();
  idp.connect({});
  ASSERT_TRUE(idp.keys->wait_for_fetches(1, kWait));
  auto result = idp.verify_signed_by(*Key::generate(Algorithm::kRS256));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message.rfind("issuer keys unavailable: fetching keys failed", 0), 0U)
      << result.error().message;
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
