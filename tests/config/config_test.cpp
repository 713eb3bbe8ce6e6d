#include "config/config.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace esp::config {
namespace {

// Parses argv with the listed environment variables set for the duration.
class ConfigTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const auto& name : set_)
      ::unsetenv(name.c_str());
  }
  void env(const std::string& name, const std::string& value) {
    ::setenv(name.c_str(), value.c_str(), 1);
    set_.push_back(name);
  }
  static Parsed parse_args(std::vector<const char*> args) {
    args.insert(args.begin(), "espd");
    return parse(static_cast<int>(args.size()), args.data());
  }

 private:
  std::vector<std::string> set_;
};

TEST_F(ConfigTest, DefaultsAreTheEmbeddedLoopbackSetup) {
  const auto parsed = parse_args({});
  ASSERT_TRUE(parsed.config) << parsed.message;
  const Config& c = *parsed.config;
  EXPECT_EQ(c.data_dir, "esp-data");
  EXPECT_EQ(c.http_addr.to_string(), "127.0.0.1:8080");
  EXPECT_EQ(c.grpc_addr.to_string(), "127.0.0.1:50051");
  EXPECT_TRUE(c.database_url.empty());
  EXPECT_GE(c.workers, 1U);
  EXPECT_EQ(c.log_level, log::Level::kInfo);
  EXPECT_EQ(c.http.max_body_bytes, 64ULL << 20);
  EXPECT_EQ(c.shutdown_timeout, std::chrono::seconds(10));
}

TEST_F(ConfigTest, EnvironmentVariablesSetValues) {
  env("ESP_DATA_DIR", "/tmp/esp-x");
  env("ESP_HTTP_ADDR", "0.0.0.0:9000");
  env("ESP_WORKERS", "3");
  env("LOG_LEVEL", "DEBUG");
  env("ESP_MAX_BODY", "2MiB");
  const auto parsed = parse_args({});
  ASSERT_TRUE(parsed.config) << parsed.message;
  EXPECT_EQ(parsed.config->data_dir, "/tmp/esp-x");
  EXPECT_EQ(parsed.config->http_addr.port, 9000);
  EXPECT_EQ(parsed.config->workers, 3U);
  EXPECT_EQ(parsed.config->log_level, log::Level::kDebug);
  EXPECT_EQ(parsed.config->http.max_body_bytes, 2ULL << 20);
}

TEST_F(ConfigTest, FlagsWinOverEnvironment) {
  env("ESP_WORKERS", "3");
  const auto parsed = parse_args({"--workers", "5"});
  ASSERT_TRUE(parsed.config) << parsed.message;
  EXPECT_EQ(parsed.config->workers, 5U);
}

TEST_F(ConfigTest, SecretsComeFromTheEnvironmentOnly) {
  env("JWT_SECRET", "0123456789abcdef0123456789abcdef");
  const auto parsed = parse_args({});
  ASSERT_TRUE(parsed.config);
  EXPECT_EQ(parsed.config->jwt_secret.reveal(), "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(parse_args({"--jwt-secret", "x"}).exit_code, 2);
}

TEST_F(ConfigTest, EveryBadValueIsReportedAtOnceWithExitCode2) {
  const auto parsed = parse_args({"--http-addr", "nowhere", "--workers", "-1", "--log-level",
                                  "loud", "--max-body", "12XB", "--database-url", "mysql://x"});
  EXPECT_FALSE(parsed.config);
  EXPECT_EQ(parsed.exit_code, 2);
  for (const char* expected :
       {"--http-addr (ESP_HTTP_ADDR)", "--workers (ESP_WORKERS)", "--log-level (LOG_LEVEL)",
        "--max-body (ESP_MAX_BODY)", "--database-url (ESP_DATABASE_URL)"}) {
    EXPECT_NE(parsed.message.find(expected), std::string::npos) << expected << "\n"
                                                                << parsed.message;
  }
}

TEST_F(ConfigTest, OptionsWorkBeforeOrAfterTheSubcommand) {
  for (const auto& args : std::vector<std::vector<const char*>>{
           {"--data-dir", "/srv/esp", "users", "add", "x@example.com"},
           {"users", "add", "x@example.com", "--data-dir", "/srv/esp"},
           {"users", "--data-dir", "/srv/esp", "add", "x@example.com"}}) {
    const auto parsed = parse_args(args);
    ASSERT_TRUE(parsed.config.has_value()) << parsed.message;
    EXPECT_EQ(parsed.config->data_dir, "/srv/esp");
    ASSERT_TRUE(parsed.config->command.has_value());
    EXPECT_EQ(parsed.config->command->kind, AdminCommand::Kind::kUsersAdd);
    EXPECT_EQ(parsed.config->command->target, "x@example.com");
  }
}

TEST_F(ConfigTest, ZeroWorkersMakesAnApiOnlyReplica) {
  const auto parsed = parse_args({"--workers", "0"});
  ASSERT_TRUE(parsed.config) << parsed.message;
  EXPECT_EQ(parsed.config->workers, 0U);
  EXPECT_EQ(parse_args({"--io-threads", "0"}).exit_code, 2);
}

TEST_F(ConfigTest, DatabasePoolIsAPositiveCount) {
  EXPECT_EQ(parse_args({}).config->database_pool, 8U);
  EXPECT_EQ(parse_args({"--database-pool", "3"}).config->database_pool, 3U);
  EXPECT_EQ(parse_args({"--database-pool", "0"}).exit_code, 2);
}

TEST_F(ConfigTest, JobLeaseIsMillisecondsOfAtLeast300) {
  EXPECT_EQ(parse_args({}).config->job_lease, std::chrono::milliseconds(30'000));
  const auto parsed = parse_args({"--job-lease-ms", "2000"});
  ASSERT_TRUE(parsed.config) << parsed.message;
  EXPECT_EQ(parsed.config->job_lease, std::chrono::milliseconds(2000));
  for (const char* bad : {"299", "0", "soon"}) {
    const auto refused = parse_args({"--job-lease-ms", bad});
    EXPECT_EQ(refused.exit_code, 2) << bad;
    EXPECT_NE(refused.message.find("--job-lease-ms (ESP_JOB_LEASE_MS)"), std::string::npos)
        << refused.message;
  }
}

TEST_F(ConfigTest, KeepGenomesUpToIsASize) {
  EXPECT_EQ(parse_args({}).config->keep_genomes_bytes, std::uint64_t{256} << 20);
  EXPECT_EQ(parse_args({"--keep-genomes-up-to", "0"}).config->keep_genomes_bytes, 0U);
  EXPECT_EQ(parse_args({"--keep-genomes-up-to", "1GiB"}).config->keep_genomes_bytes,
            std::uint64_t{1} << 30);
  const auto refused = parse_args({"--keep-genomes-up-to", "lots"});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.message.find("--keep-genomes-up-to (ESP_KEEP_GENOMES_UP_TO)"),
            std::string::npos)
      << refused.message;
}

TEST_F(ConfigTest, GrpcTlsNeedsBothCertificateAndKey) {
  const auto parsed = parse_args({"--grpc-tls-cert", "cert.pem"});
  EXPECT_EQ(parsed.exit_code, 2);
  EXPECT_NE(parsed.message.find("--grpc-tls-key"), std::string::npos) << parsed.message;
}

TEST_F(ConfigTest, UnknownFlagIsAnErrorWithExitCode2) {
  const auto parsed = parse_args({"--no-such-flag"});
  EXPECT_EQ(parsed.exit_code, 2);
  EXPECT_NE(parsed.message.find("--no-such-flag"), std::string::npos);
}

TEST_F(ConfigTest, HelpListsEverySettingAndItsEnvironmentVariable) {
  const auto parsed = parse_args({"--help"});
  EXPECT_EQ(parsed.exit_code, 0);
  for (const char* name : {"ESP_DATA_DIR",
                           "ESP_DATABASE_URL",
                           "ESP_MODELS_BUCKET",
                           "ESP_S3_ENDPOINT",
                           "AWS_REGION",
                           "AWS_ACCESS_KEY_ID",
                           "AWS_SECRET_ACCESS_KEY",
                           "JWT_SECRET",
                           "ESP_SIGNING_KEYS",
                           "ESP_TRUSTED_ISSUERS",
                           "ESP_HTTP_ADDR",
                           "ESP_GRPC_ADDR",
                           "ESP_WORKERS",
                           "ESP_JOB_LEASE_MS",
                           "ESP_DATABASE_POOL",
                           "LOG_LEVEL",
                           "ESP_MAX_BODY",
                           "ESP_MAX_HEADER",
                           "ESP_READ_TIMEOUT_MS",
                           "ESP_IDLE_TIMEOUT_MS",
                           "ESP_SHUTDOWN_TIMEOUT_MS",
                           "ESP_UI_DIR",
                           "ESP_GRPC_TLS_CERT",
                           "ESP_GRPC_TLS_KEY",
                           "ESP_COLOR",
                           "ESP_ALLOW_ANONYMOUS_LOOPBACK",
                           "ESP_KEEP_GENOMES_UP_TO"}) {
    EXPECT_NE(parsed.message.find(name), std::string::npos) << name;
  }
}

TEST(Address, ParsesHostPortForms) {
  EXPECT_EQ(parse_address("127.0.0.1:80")->host, "127.0.0.1");
  EXPECT_EQ(parse_address("[::1]:50051")->host, "::1");
  EXPECT_EQ(parse_address("[::1]:50051")->to_string(), "[::1]:50051");
  EXPECT_EQ(parse_address(":8080")->host, "0.0.0.0");
  EXPECT_EQ(parse_address("127.0.0.1:0")->port, 0);
  EXPECT_FALSE(parse_address("127.0.0.1"));
  EXPECT_FALSE(parse_address("127.0.0.1:65536"));
  EXPECT_FALSE(parse_address("::1:80"));
  EXPECT_FALSE(parse_address("host:-1"));
}

TEST(ByteSize, AcceptsPlainNumbersAndUnits) {
  EXPECT_EQ(*parse_byte_size("1048576"), 1048576U);
  EXPECT_EQ(*parse_byte_size("16KiB"), 16384U);
  EXPECT_EQ(*parse_byte_size("64MiB"), 64ULL << 20);
  EXPECT_EQ(*parse_byte_size("1GiB"), 1ULL << 30);
  EXPECT_EQ(*parse_byte_size("10MB"), 10'000'000U);
  EXPECT_FALSE(parse_byte_size("MiB"));
  EXPECT_FALSE(parse_byte_size("5 MiB"));
  EXPECT_FALSE(parse_byte_size("99999999999999999999"));
  EXPECT_FALSE(parse_byte_size("18446744073709551615GiB"));
}

}  // namespace
}  // namespace esp::config
