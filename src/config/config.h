// espd's settings, parsed once from flags and environment variables into
// typed values and validated before anything starts.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/http_limits.h"
#include "core/error.h"
#include "observability/log.h"

namespace esp::config {

struct Address {
  std::string host;
  std::uint16_t port = 0;
  std::string to_string() const;
};

// "host:port", "[v6]:port" or ":port" (all interfaces). Port 0 picks a free one.
Result<Address> parse_address(std::string_view text);
// A plain byte count or one with a unit: 512KiB, 64MiB, 1GiB, 10MB, 4kB.
Result<std::uint64_t> parse_byte_size(std::string_view text);

// A value that must never reach a log or a help text.
class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  const std::string& reveal() const { return value_; }
  bool empty() const { return value_.empty(); }

 private:
  std::string value_;
};

// espd's administration subcommands, run instead of the server.
struct AdminCommand {
  enum class Kind { kUsersAdd, kUsersList, kUsersDisable, kClientsAdd };
  Kind kind = Kind::kUsersList;
  std::string target;  // the email or the client name
  std::string scopes;  // space separated
};

struct Config {
  std::filesystem::path data_dir = "esp-data";
  std::string database_url;    // empty: embedded SQLite under data_dir
  unsigned database_pool = 8;  // PostgreSQL connections per replica
  std::string models_bucket;   // empty: checkpoint files under data_dir
  std::string s3_endpoint;
  std::string aws_region;
  Secret aws_access_key_id;
  Secret aws_secret_access_key;
  Secret jwt_secret;
  std::vector<std::string> signing_keys;
  std::string trusted_issuers;
  std::string issuer;  // "iss" of esp's tokens; default http://<http_addr>/
  std::string audience = "esp";
  std::chrono::seconds token_lifetime{3600};
  std::chrono::seconds token_leeway{60};  // clock skew allowed on exp, nbf and iat
  bool insecure_dev = false;              // allows a JWT_SECRET shorter than 32 bytes
  std::filesystem::path ui_dir;           // empty: the build's swagger-ui-dist
  std::filesystem::path dashboard_dir;    // empty: the build's web/dashboard
  std::filesystem::path grpc_tls_cert;    // both set: gRPC over TLS
  std::filesystem::path grpc_tls_key;
  std::string color;                      // deployment colour, for service_select routing
  bool allow_anonymous_loopback = false;  // token-less gRPC calls from loopback (old SDKs)
  Address http_addr{"127.0.0.1", 8080};
  Address grpc_addr{"127.0.0.1", 50051};
  unsigned workers = 1;
  // A job whose replica stops renewing it for this long is run again by another.
  std::chrono::milliseconds job_lease{30'000};
  // A job whose process died this often while running it fails for good.
  unsigned job_max_attempts = 3;
  // A generation whose estimated peak memory is larger is refused when it is submitted.
  std::uint64_t max_generation_memory_bytes = 0;
  // Populations with more genomes than this are kept without them between generations.
  std::uint64_t keep_genomes_bytes = std::uint64_t{256} << 20;
  unsigned io_threads = 1;
  log::Level log_level = log::Level::kInfo;
  HttpLimits http;
  std::chrono::milliseconds shutdown_timeout{10'000};
  std::uint32_t grpc_max_message_bytes = 256U << 20;
  std::optional<AdminCommand> command;
};

// What parsing the command line decided: run with a config, or exit now
// with a message (help on stdout with code 0, errors on stderr with code 2).
struct Parsed {
  std::optional<Config> config;
  int exit_code = 0;
  std::string message;
};

Parsed parse(int argc, const char* const* argv);

}  // namespace esp::config
