#include "config/config.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdlib>
#include <functional>
#include <thread>

#include "core/memory_limit.h"
#include "esp_commit.h"

namespace esp::config {
namespace {

Error invalid(std::string message) {
  return Error{Code::kInvalidArgument, std::move(message)};
}

std::optional<std::uint64_t> parse_unsigned(std::string_view text) {
  std::uint64_t value = 0;
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty()) return std::nullopt;
  return value;
}

Secret secret_from_env(const char* name) {
  const char* value = std::getenv(name);
  return Secret(value == nullptr ? "" : value);
}

unsigned default_thread_count() {
  return std::max(1U, std::thread::hardware_concurrency());
}

// Raw strings as typed by the operator; validated into Config afterwards so
// every problem is reported at once.
struct RawFlags {
  std::string data_dir = "esp-data";
  std::string database_url;
  std::string database_pool;
  std::string models_bucket;
  std::string s3_endpoint;
  std::string aws_region;
  std::string signing_keys;
  std::string trusted_issuers;
  std::string issuer;
  std::string audience = "esp";
  std::string token_lifetime_s = "3600";
  std::string token_leeway_s = "60";
  bool insecure_dev = false;
  std::string ui_dir;
  std::string dashboard_dir;
  std::string grpc_tls_cert;
  std::string grpc_tls_key;
  std::string color;
  bool allow_anonymous_loopback = false;
  std::string http_addr = "127.0.0.1:8080";
  std::string grpc_addr = "127.0.0.1:50051";
  std::string workers;
  std::string job_lease_ms = "30000";
  std::string job_max_attempts = "3";
  std::string max_generation_memory;
  std::string keep_genomes_up_to;
  std::string io_threads;
  std::string log_level = "info";
  std::string max_body = "64MiB";
  std::string grpc_max_message = "256MiB";
  std::string max_header = "16KiB";
  std::string max_connections = "10000";
  std::string read_timeout_ms = "30000";
  std::string idle_timeout_ms = "75000";
  std::string shutdown_timeout_ms = "10000";
};

void add_options(CLI::App& app, RawFlags& raw) {
  const auto option = [&app](const char* flag, std::string& target, const char* env,
                             const char* help) {
    app.add_option(flag, target, help)->envname(env)->capture_default_str();
  };
  option("--data-dir", raw.data_dir, "ESP_DATA_DIR",
         "Folder for the embedded database, checkpoints and keys");
  option("--database-url", raw.database_url, "ESP_DATABASE_URL",
         "postgresql://... to use PostgreSQL instead of SQLite");
  option("--database-pool", raw.database_pool, "ESP_DATABASE_POOL",
         "PostgreSQL connections per replica (default 8)");
  option("--models-bucket", raw.models_bucket, "ESP_MODELS_BUCKET",
         "S3 bucket for checkpoints instead of files");
  option("--s3-endpoint", raw.s3_endpoint, "ESP_S3_ENDPOINT",
         "S3-compatible endpoint URL (default: AWS)");
  option("--aws-region", raw.aws_region, "AWS_REGION", "Region for S3 request signing");
  option("--signing-keys", raw.signing_keys, "ESP_SIGNING_KEYS",
         "Comma-separated PEM files of RS256/ES256 signing keys");
  option("--trusted-issuers", raw.trusted_issuers, "ESP_TRUSTED_ISSUERS",
         "JSON file (or inline JSON) listing external token issuers");
  option("--issuer", raw.issuer, "ESP_ISSUER",
         "The iss of tokens espd issues, its public base URL (default http://<http-addr>/)");
  option("--audience", raw.audience, "ESP_AUDIENCE", "The aud of tokens espd issues and accepts");
  option("--token-lifetime-s", raw.token_lifetime_s, "ESP_TOKEN_LIFETIME_S",
         "Lifetime of issued tokens in seconds");
  option("--token-leeway-s", raw.token_leeway_s, "ESP_TOKEN_LEEWAY_S",
         "Clock skew in seconds allowed when checking exp, nbf and iat");
  app.add_flag("--insecure-dev", raw.insecure_dev,
               "Development only: accept a JWT_SECRET shorter than 32 bytes")
      ->envname("ESP_INSECURE_DEV");
  option("--ui-dir", raw.ui_dir, "ESP_UI_DIR",
         "Folder of the swagger-ui-dist package served at /ui/ (default: the build's copy)");
  option("--dashboard-dir", raw.dashboard_dir, "ESP_DASHBOARD_DIR",
         "Folder of the dashboard served at /dashboard/ (default: the build's web/dashboard)");
  option("--grpc-tls-cert", raw.grpc_tls_cert, "ESP_GRPC_TLS_CERT",
         "PEM certificate chain: serve gRPC over TLS (with --grpc-tls-key)");
  option("--grpc-tls-key", raw.grpc_tls_key, "ESP_GRPC_TLS_KEY", "PEM private key for gRPC TLS");
  option("--color", raw.color, "ESP_COLOR",
         "Deployment colour (blue, green) reported by GetSystemInfo, for service_select routing");
  app.add_flag("--allow-anonymous-loopback", raw.allow_anonymous_loopback,
               "Let gRPC calls without a token from 127.0.0.1/::1 act as 'anonymous' (older SDK "
               "clients)")
      ->envname("ESP_ALLOW_ANONYMOUS_LOOPBACK");
  option("--http-addr", raw.http_addr, "ESP_HTTP_ADDR", "REST listen address host:port");
  option("--grpc-addr", raw.grpc_addr, "ESP_GRPC_ADDR", "gRPC listen address host:port");
  option("--workers", raw.workers, "ESP_WORKERS",
         "Generation job workers (default: number of cores; 0 serves the API only)");
  option("--job-lease-ms", raw.job_lease_ms, "ESP_JOB_LEASE_MS",
         "How long a replica that stops renewing a running job keeps it before another runs it");
  option("--job-max-attempts", raw.job_max_attempts, "ESP_JOB_MAX_ATTEMPTS",
         "Runs of a job whose process died before it fails for good");
  option("--max-generation-memory", raw.max_generation_memory, "ESP_MAX_GENERATION_MEMORY",
         "Largest estimated peak memory of one generation (413 / RESOURCE_EXHAUSTED beyond; "
         "default: 3/4 of the cgroup limit, RLIMIT_AS or physical memory, the smallest)");
  option("--keep-genomes-up-to", raw.keep_genomes_up_to, "ESP_KEEP_GENOMES_UP_TO",
         "Largest population genomes kept in memory between generations (default 256MiB); a "
         "larger binary population is bred from the parents its gRPC request sends back, "
         "checked against what was handed out, else from its checkpoint");
  option("--io-threads", raw.io_threads, "ESP_IO_THREADS",
         "HTTP I/O threads (default: number of cores)");
  option("--log-level", raw.log_level, "LOG_LEVEL", "trace, debug, info, warn, error or off");
  option("--max-body", raw.max_body, "ESP_MAX_BODY", "Largest request body accepted (413 beyond)");
  option("--grpc-max-message", raw.grpc_max_message, "ESP_GRPC_MAX_MESSAGE",
         "Largest gRPC message received or sent (RESOURCE_EXHAUSTED beyond)");
  option("--max-header", raw.max_header, "ESP_MAX_HEADER",
         "Largest request header block accepted (431 beyond)");
  option("--max-connections", raw.max_connections, "ESP_MAX_CONNECTIONS",
         "Open HTTP connections at most; past it new ones wait in the listen backlog");
  option("--read-timeout-ms", raw.read_timeout_ms, "ESP_READ_TIMEOUT_MS",
         "Time allowed to receive a whole request once it starts");
  option("--idle-timeout-ms", raw.idle_timeout_ms, "ESP_IDLE_TIMEOUT_MS",
         "Keep-alive connections idle longer are closed");
  option("--shutdown-timeout-ms", raw.shutdown_timeout_ms, "ESP_SHUTDOWN_TIMEOUT_MS",
         "Grace period for in-flight requests on SIGTERM");
  app.footer(
      "Secrets are read from the environment only, never from flags:\n"
      "  JWT_SECRET             HS256 signing secret (at least 32 bytes)\n"
      "  AWS_ACCESS_KEY_ID      S3 credentials\n"
      "  AWS_SECRET_ACCESS_KEY  S3 credentials");
}

void check_count(std::string_view name, const std::string& text, unsigned fallback, unsigned& out,
                 std::vector<std::string>& problems, unsigned least = 1) {
  if (text.empty()) {
    out = fallback;
    return;
  }
  const auto value = parse_unsigned(text);
  if (!value || *value < least || *value > 1024) {
    problems.push_back(
        fmt::format("{}: must be a whole number from {} to 1024, got '{}'", name, least, text));
    return;
  }
  out = static_cast<unsigned>(*value);
}

void check_millis(std::string_view name, const std::string& text, std::chrono::milliseconds& out,
                  std::vector<std::string>& problems) {
  const auto value = parse_unsigned(text);
  if (!value || *value < 1 || *value > 86'400'000) {
    problems.push_back(
        fmt::format("{}: must be milliseconds from 1 to 86400000, got '{}'", name, text));
    return;
  }
  out = std::chrono::milliseconds(*value);
}

void check_address(std::string_view name, const std::string& text, Address& out,
                   std::vector<std::string>& problems) {
  auto address = parse_address(text);
  if (!address) {
    problems.push_back(fmt::format("{}: {}", name, address.error().message));
    return;
  }
  out = std::move(*address);
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    const size_t end = comma == std::string::npos ? text.size() : comma;
    if (end > start) items.push_back(text.substr(start, end - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return items;
}

Config validate(const RawFlags& raw, std::vector<std::string>& problems) {
  Config config;
  if (raw.data_dir.empty()) problems.emplace_back("--data-dir (ESP_DATA_DIR): must not be empty");
  config.data_dir = raw.data_dir;
  if (!raw.database_url.empty() && !raw.database_url.starts_with("postgresql://") &&
      !raw.database_url.starts_with("postgres://")) {
    problems.emplace_back(
        "--database-url (ESP_DATABASE_URL): must start with postgresql:// (leave it unset for "
        "the embedded SQLite database)");
  }
  config.database_url = raw.database_url;
  config.models_bucket = raw.models_bucket;
  check_count("--database-pool (ESP_DATABASE_POOL)", raw.database_pool, 8, config.database_pool,
              problems);
  config.s3_endpoint = raw.s3_endpoint;
  config.aws_region = raw.aws_region;
  if (!raw.s3_endpoint.empty() && !raw.s3_endpoint.starts_with("http://") &&
      !raw.s3_endpoint.starts_with("https://")) {
    problems.push_back(
        fmt::format("--s3-endpoint (ESP_S3_ENDPOINT): must be an http:// or https:// URL, got '{}'",
                    raw.s3_endpoint));
  }
  config.signing_keys = split_list(raw.signing_keys);
  config.audience = raw.audience;
  if (raw.audience.empty()) problems.emplace_back("--audience (ESP_AUDIENCE): must not be empty");
  config.insecure_dev = raw.insecure_dev;
  config.ui_dir = raw.ui_dir;
  config.dashboard_dir = raw.dashboard_dir;
  config.grpc_tls_cert = raw.grpc_tls_cert;
  config.grpc_tls_key = raw.grpc_tls_key;
  if (raw.grpc_tls_cert.empty() != raw.grpc_tls_key.empty()) {
    problems.emplace_back(
        "--grpc-tls-cert and --grpc-tls-key (ESP_GRPC_TLS_CERT, ESP_GRPC_TLS_KEY): give both or "
        "neither");
  }
  config.color = raw.color;
  config.allow_anonymous_loopback = raw.allow_anonymous_loopback;
  if (auto leeway = parse_unsigned(raw.token_leeway_s); leeway && *leeway <= 3600) {
    config.token_leeway = std::chrono::seconds(*leeway);
  } else {
    problems.push_back(fmt::format(
        "--token-leeway-s (ESP_TOKEN_LEEWAY_S): must be seconds from 0 to 3600, got '{}'",
        raw.token_leeway_s));
  }
  if (auto lifetime = parse_unsigned(raw.token_lifetime_s);
      lifetime && *lifetime >= 60 && *lifetime <= 31'536'000) {
    config.token_lifetime = std::chrono::seconds(*lifetime);
  } else {
    problems.push_back(fmt::format(
        "--token-lifetime-s (ESP_TOKEN_LIFETIME_S): must be seconds from 60 to 31536000, got '{}'",
        raw.token_lifetime_s));
  }
  config.trusted_issuers = raw.trusted_issuers;
  config.aws_access_key_id = secret_from_env("AWS_ACCESS_KEY_ID");
  config.aws_secret_access_key = secret_from_env("AWS_SECRET_ACCESS_KEY");
  config.jwt_secret = secret_from_env("JWT_SECRET");

  check_address("--http-addr (ESP_HTTP_ADDR)", raw.http_addr, config.http_addr, problems);
  check_address("--grpc-addr (ESP_GRPC_ADDR)", raw.grpc_addr, config.grpc_addr, problems);
  config.issuer = raw.issuer.empty() ? "http://" + config.http_addr.to_string() + "/" : raw.issuer;
  // 0 workers: a replica that serves the API while others run the jobs.
  check_count("--workers (ESP_WORKERS)", raw.workers, default_thread_count(), config.workers,
              problems, 0);
  check_millis("--job-lease-ms (ESP_JOB_LEASE_MS)", raw.job_lease_ms, config.job_lease, problems);
  if (config.job_lease < std::chrono::milliseconds(300)) {
    problems.push_back(fmt::format(
        "--job-lease-ms (ESP_JOB_LEASE_MS): must be at least 300 (renewed every third), got '{}'",
        raw.job_lease_ms));
  }
  check_count("--job-max-attempts (ESP_JOB_MAX_ATTEMPTS)", raw.job_max_attempts, 3,
              config.job_max_attempts, problems);
  if (raw.max_generation_memory.empty()) {
    // The rest: espd itself, the populations workers keep in memory, allocator slack.
    config.max_generation_memory_bytes = memory_bounds().tightest() / 4 * 3;
  } else if (auto size = parse_byte_size(raw.max_generation_memory); size && *size >= (1U << 20)) {
    config.max_generation_memory_bytes = *size;
  } else {
    problems.push_back(fmt::format(
        "--max-generation-memory (ESP_MAX_GENERATION_MEMORY): must be a size of at least 1MiB, "
        "got '{}'",
        raw.max_generation_memory));
  }
  if (!raw.keep_genomes_up_to.empty()) {
    if (auto size = parse_byte_size(raw.keep_genomes_up_to); size.ok()) {
      config.keep_genomes_bytes = *size;
    } else {
      problems.push_back(fmt::format(
          "--keep-genomes-up-to (ESP_KEEP_GENOMES_UP_TO): must be a size such as 256MiB, got '{}'",
          raw.keep_genomes_up_to));
    }
  }
  check_count("--io-threads (ESP_IO_THREADS)", raw.io_threads, default_thread_count(),
              config.io_threads, problems);

  if (auto level = log::parse_level(raw.log_level)) {
    config.log_level = *level;
  } else {
    problems.push_back(fmt::format(
        "--log-level (LOG_LEVEL): must be trace, debug, info, warn, error or off, got '{}'",
        raw.log_level));
  }

  if (auto size = parse_byte_size(raw.max_body); size && *size >= 1024) {
    config.http.max_body_bytes = *size;
  } else {
    problems.push_back(fmt::format(
        "--max-body (ESP_MAX_BODY): must be a size of at least 1KiB, got '{}'", raw.max_body));
  }
  if (auto size = parse_byte_size(raw.grpc_max_message);
      size && *size >= 4096 && *size <= 0x7FFFFFFF) {
    config.grpc_max_message_bytes = static_cast<std::uint32_t>(*size);
  } else {
    problems.push_back(fmt::format(
        "--grpc-max-message (ESP_GRPC_MAX_MESSAGE): must be a size from 4KiB to 2GiB-1, got '{}'",
        raw.grpc_max_message));
  }
  if (auto size = parse_byte_size(raw.max_header); size && *size >= 1024 && *size <= (1U << 20)) {
    config.http.max_header_bytes = static_cast<std::uint32_t>(*size);
  } else {
    problems.push_back(
        fmt::format("--max-header (ESP_MAX_HEADER): must be a size from 1KiB to 1MiB, got '{}'",
                    raw.max_header));
  }
  if (auto count = parse_unsigned(raw.max_connections);
      count && *count >= 1 && *count <= 1'000'000) {
    config.http.max_connections = static_cast<std::uint32_t>(*count);
  } else {
    problems.push_back(fmt::format(
        "--max-connections (ESP_MAX_CONNECTIONS): must be a whole number from 1 to 1000000, got "
        "'{}'",
        raw.max_connections));
  }
  check_millis("--read-timeout-ms (ESP_READ_TIMEOUT_MS)", raw.read_timeout_ms,
               config.http.read_timeout, problems);
  check_millis("--idle-timeout-ms (ESP_IDLE_TIMEOUT_MS)", raw.idle_timeout_ms,
               config.http.idle_timeout, problems);
  check_millis("--shutdown-timeout-ms (ESP_SHUTDOWN_TIMEOUT_MS)", raw.shutdown_timeout_ms,
               config.shutdown_timeout, problems);
  return config;
}

}  // namespace

std::string Address::to_string() const {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

Result<Address> parse_address(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return invalid(fmt::format("expected host:port, got '{}'", text));
  }
  std::string_view host = text.substr(0, colon);
  const auto port = parse_unsigned(text.substr(colon + 1));
  if (!port || *port > 65535) {
    return invalid(fmt::format("port must be a number from 0 to 65535, got '{}'", text));
  }
  if (host.starts_with('[')) {
    if (!host.ends_with(']') || host.size() < 3) {
      return invalid(fmt::format("bad IPv6 address in '{}'", text));
    }
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return invalid(fmt::format("IPv6 addresses need brackets, as in [::1]:8080; got '{}'", text));
  }
  return Address{host.empty() ? "0.0.0.0" : std::string(host), static_cast<std::uint16_t>(*port)};
}

Result<std::uint64_t> parse_byte_size(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9')
    ++digits;
  const auto number = parse_unsigned(text.substr(0, digits));
  if (!number)
    return invalid(fmt::format("expected a size such as 1048576 or 64MiB, got '{}'", text));
  const std::string_view unit = text.substr(digits);
  static constexpr std::pair<std::string_view, std::uint64_t> kUnits[] = {
      {"", 1},      {"B", 1},     {"KiB", 1ULL << 10}, {"MiB", 1ULL << 20},   {"GiB", 1ULL << 30},
      {"kB", 1000}, {"KB", 1000}, {"MB", 1'000'000},   {"GB", 1'000'000'000},
  };
  for (const auto& [name, factor] : kUnits) {
    if (unit == name) {
      if (*number > UINT64_MAX / factor) return invalid(fmt::format("size too large: '{}'", text));
      return *number * factor;
    }
  }
  return invalid(
      fmt::format("unknown size unit '{}' in '{}' (use B, KiB, MiB, GiB, kB, MB, GB)", unit, text));
}

namespace {

// espd users add|list|disable, espd clients add: run against the same data folder or
// database as the server, then exit.
struct RawCommand {
  std::string email;
  std::string name;
  std::string scopes = "esp:read esp:write";
};

void add_admin_commands(CLI::App& app, RawCommand& raw,
                        std::function<std::optional<AdminCommand>()>& chosen) {
  // Subcommands made after this pass options they do not know to espd itself, so
  // `espd users add X --data-dir D` works as `espd --data-dir D users add X` does.
  app.fallthrough();
  auto* users = app.add_subcommand("users", "Manage users who log in with email and password");
  users->require_subcommand(1);
  auto* add = users->add_subcommand("add", "Add a user; the password is read from standard input");
  add->add_option("email", raw.email, "The user's email address")->required();
  add->add_option("--scopes", raw.scopes,
                  "Space-separated scopes: esp:read esp:write esp:admin all:esp")
      ->capture_default_str();
  auto* list = users->add_subcommand("list", "List users");
  auto* disable =
      users->add_subcommand("disable", "Disable a user; their tokens stop being issued");
  disable->add_option("email", raw.email, "The user's email address")->required();
  auto* clients = app.add_subcommand("clients", "Manage OAuth2 clients (client_credentials grant)");
  clients->require_subcommand(1);
  auto* add_client =
      clients->add_subcommand("add", "Add a client and print its id and secret once");
  add_client->add_option("name", raw.name, "A name for the client")->required();
  add_client->add_option("--scopes", raw.scopes, "Space-separated scopes")->capture_default_str();
  chosen = [=, &raw]() -> std::optional<AdminCommand> {
    using Kind = AdminCommand::Kind;
    if (add->parsed()) return AdminCommand{Kind::kUsersAdd, raw.email, raw.scopes};
    if (list->parsed()) return AdminCommand{Kind::kUsersList, {}, {}};
    if (disable->parsed()) return AdminCommand{Kind::kUsersDisable, raw.email, {}};
    if (add_client->parsed()) return AdminCommand{Kind::kClientsAdd, raw.name, raw.scopes};
    return std::nullopt;
  };
}

}  // namespace

Parsed parse(int argc, const char* const* argv) {
  CLI::App app{"espd: Evolutionary Surrogate-assisted Prescription service", "espd"};
  app.set_version_flag("--version", std::string("espd " ESP_VERSION " (commit " ESP_COMMIT ")"));
  RawFlags raw;
  add_options(app, raw);
  RawCommand raw_command;
  std::function<std::optional<AdminCommand>()> chosen_command;
  add_admin_commands(app, raw_command, chosen_command);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    return Parsed{std::nullopt, 0, app.help()};
  } catch (const CLI::CallForVersion& e) {
    return Parsed{std::nullopt, 0, e.what()};
  } catch (const CLI::ParseError& e) {
    return Parsed{std::nullopt, 2,
                  fmt::format("espd: {}\nRun 'espd --help' for the settings.", e.what())};
  }
  std::vector<std::string> problems;
  Config config = validate(raw, problems);
  config.command = chosen_command();
  if (!problems.empty()) {
    std::string message = "espd: invalid configuration:";
    for (const auto& problem : problems)
      message += "\n  " + problem;
    return Parsed{std::nullopt, 2, std::move(message)};
  }
  return Parsed{std::move(config), 0, {}};
}

}  // namespace esp::config
