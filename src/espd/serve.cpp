#include "espd/serve.h"

#include <fmt/format.h>
#include <unistd.h>

#include <array>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <filesystem>
#include <future>
#include <thread>

#include "api/grpc/population_service.h"
#include "api/grpc/server.h"
#include "api/grpc/system_info_service.h"
#include "api/http/access.h"
#include "api/http/server.h"
#include "api/rest/docs.h"
#include "api/rest/identity.h"
#include "api/rest/population.h"
#include "api/rest/routes.h"
#include "auth/accounts.h"
#include "auth/digest.h"
#include "auth/issuer.h"
#include "auth/key_config.h"
#include "auth/verifier.h"
#include "core/files.h"
#include "espd/storage.h"
#include "observability/log.h"
#include "observability/process.h"
#include "population/generations.h"
#include "population/workers.h"
#include "store/store.h"

namespace esp::espd {
namespace asio = boost::asio;

namespace {

// Names this process in job leases. Containers all run espd as pid 1, so the host name
// (the pod's) and a random part keep two replicas, or a restarted one, from sharing a
// name and renewing or finishing each other's jobs.
std::string replica_name() {
  std::array<char, 256> host{};
  if (::gethostname(host.data(), host.size() - 1) != 0) host[0] = '\0';
  auto nonce = auth::random_id(4);
  return fmt::format("{}:{}:{}", host.data(), ::getpid(), nonce.ok() ? *nonce : "");
}

std::optional<std::string> check_writable(const std::filesystem::path& folder) {
  if (::access(folder.c_str(), W_OK) != 0)
    return "data folder " + folder.string() + " is not writable";
  return std::nullopt;
}

Result<bool> prepare_data_dir(const std::filesystem::path& folder) {
  // Records, checkpoints and keys are the owner's alone: a new data folder is 0700.
  if (auto made = make_private_folders(folder); !made.ok()) return made.error();
  if (auto failure = check_writable(folder)) return Error{Code::kUnavailable, *failure};
  return true;
}

// espd's own issuer and the verifier of every issuer it trusts.
struct Identity {
  Identity(std::vector<auth::Key> keys, const config::Config& config,
           std::vector<auth::TrustedIssuer> outside)
      : signing_keys(std::move(keys)),
        issuer(config.issuer, config.audience, signing_keys, config.token_lifetime),
        verifier(with_own(issuer, std::move(outside)), {.leeway = config.token_leeway}) {}
  static std::vector<auth::TrustedIssuer> with_own(const auth::TokenIssuer& own,
                                                   std::vector<auth::TrustedIssuer> outside) {
    outside.insert(outside.begin(), own.trusted());
    return outside;
  }
  std::vector<auth::Key> signing_keys;
  const auth::TokenIssuer issuer;
  const auth::Verifier verifier;
};

// kInvalidArgument for unusable keys or trusted-issuer settings.
Result<std::unique_ptr<Identity>> make_identity(const config::Config& config) {
  auto signing_keys = auth::load_signing_keys({.jwt_secret = config.jwt_secret.reveal(),
                                               .pem_files = config.signing_keys,
                                               .data_dir = config.data_dir,
                                               .insecure_dev = config.insecure_dev});
  if (!signing_keys.ok()) return signing_keys.error();
  auto trusted_issuers = auth::parse_trusted_issuers(config.trusted_issuers);
  if (!trusted_issuers.ok()) return trusted_issuers.error();
  return std::make_unique<Identity>(std::move(*signing_keys), config, std::move(*trusted_issuers));
}

// Jobs queued or ended by other replicas (PostgreSQL LISTEN) wake this one's workers and
// waiting calls at once.
void forward_job_notifications(store::Store& store, population::JobBoard& board) {
  if (!store.notifications) return;
  store.notifications->listen([&board, connections = 0](auto event) mutable {
    using Event = store::JobNotifications::Event;
    if (event == Event::kListening) {
      log::info("job_notifications_listening", {{"connection", ++connections}});
      // A change missed while (re)connecting is caught by the pollers; waking them now
      // makes up for it sooner.
      board.job_queued();
      board.job_ended();
    } else {
      event == Event::kQueued ? board.job_queued() : board.job_ended();
    }
  });
}

population::WorkerOptions worker_options(const config::Config& config) {
  return {.workers = config.workers,
          .engine_threads = std::max(1U, std::thread::hardware_concurrency()),
          .lease = config.job_lease,
          .max_attempts = static_cast<int>(config.job_max_attempts),
          .heartbeat = config.job_lease / 3,
          .replica = replica_name()};
}

void describe_process(metrics::Registry& registry) {
  registry.gauge("esp_build_info", "Version and commit of this espd.", {"version", "commit"})
      .with({ESP_VERSION, ESP_COMMIT})
      .set(1);
  registry.add_collector(metrics::append_process_metrics);
}

void add_readiness_checks(rest::Readiness& readiness, const config::Config& config,
                          const population::Workers& workers, store::Users& users) {
  readiness.add_check("data_dir", [dir = config.data_dir] { return check_writable(dir); });
  readiness.add_check("workers",
                      [&workers, expected = config.workers]() -> std::optional<std::string> {
                        if (workers.alive() == expected) return std::nullopt;
                        return std::to_string(workers.alive()) + " of " + std::to_string(expected) +
                               " workers running";
                      });
  readiness.add_check("database", [&users]() -> std::optional<std::string> {
    auto probe = users.find("readiness-probe");
    if (probe.ok()) return std::nullopt;
    // /readyz answers anyone: the database's own text (host, user) goes to the log only.
    log::warn("readiness_database_failed", {{"detail", probe.error().message}});
    return "unreachable";
  });
}

}  // namespace

int serve(const config::Config& config) {
  if (auto ready = prepare_data_dir(config.data_dir); !ready) {
    log::error("startup_failed", {{"detail", ready.error().message}});
    return 1;
  }

  auto store = open_store(config);
  if (!store.ok()) {
    log::error("startup_failed", {{"detail", store.error().message}});
    return 1;
  }
  auto identity = make_identity(config);
  if (!identity.ok()) {
    log::error("invalid_configuration", {{"detail", identity.error().message}});
    return 2;
  }
  const auth::TokenIssuer& token_issuer = (*identity)->issuer;
  const auth::Verifier& verifier = (*identity)->verifier;
  auth::Accounts accounts(*store->users, *store->clients);
  // Storage calls of REST handlers: short, but they may wait on a disk flush.
  boost::asio::thread_pool storage_pool(4);
  population::JobBoard job_board;
  forward_job_notifications(*store, job_board);
  population::FreshPopulations fresh_populations;
  population::Generations generations(*store, job_board, fresh_populations,
                                      {.max_memory_bytes = config.max_generation_memory_bytes});
  population::ExperimentRecords experiment_records(*store);
  population::Workers workers(*store, job_board, fresh_populations, worker_options(config));
  workers.start();

  metrics::Registry registry;
  describe_process(registry);
  rest::Readiness readiness;
  add_readiness_checks(readiness, config, workers, *store->users);
  readiness.start();

  rest::Services services{{ESP_VERSION, ESP_COMMIT}, registry, readiness};
  http::Router router;
  rest::add_routes(router, services);
  rest::LoginGuard login_guard(rest::LoginLimits{}, registry);
  rest::IdentityServices identity_rest{accounts, token_issuer, verifier, login_guard};
  rest::add_identity_routes(router, identity_rest);
  rest::PopulationServices population_rest{verifier, experiment_records, generations, job_board,
                                           storage_pool};
  rest::add_population_routes(router, population_rest);
  rest::add_docs_routes(
      router, config.ui_dir.empty() ? std::filesystem::path(ESP_DEFAULT_UI_DIR) : config.ui_dir);
  http::AccessRecorder access(registry);

  http::IoPool io_pool(config.io_threads);
  http::Server http_server(io_pool, config.http, router, access);
  auto http_endpoint = http_server.listen(config.http_addr.host, config.http_addr.port);
  if (!http_endpoint) {
    log::error("startup_failed", {{"detail", http_endpoint.error().message}});
    return 1;
  }
  const grpcapi::ServerOptions grpc_options{
      .host = config.grpc_addr.host,
      .port = config.grpc_addr.port,
      .max_message_bytes = static_cast<int>(config.grpc_max_message_bytes),
      .tls_certificate = config.grpc_tls_cert,
      .tls_key = config.grpc_tls_key};
  const grpcapi::CallAuthenticator call_auth(verifier, config.allow_anonymous_loopback);
  grpcapi::PopulationService population_service(
      generations, call_auth, static_cast<std::size_t>(grpc_options.max_message_bytes));
  grpcapi::SystemInfoService system_info_service({ESP_VERSION, ESP_COMMIT, config.color},
                                                 call_auth);
  auto grpc_server =
      grpcapi::Server::start(grpc_options, {&population_service, &system_info_service});
  if (!grpc_server) {
    log::error("startup_failed", {{"detail", grpc_server.error().message}});
    return 1;
  }

  std::promise<int> stop;
  asio::signal_set signals(io_pool.first(), SIGINT, SIGTERM);
  signals.async_wait([&stop](const boost::system::error_code& ec, int signal_number) {
    stop.set_value(ec ? 0 : signal_number);
  });
  io_pool.start();

  const auto http_address =
      config::Address{http_endpoint->address().to_string(), http_endpoint->port()};
  const auto grpc_address = config::Address{config.grpc_addr.host, (*grpc_server)->port()};
  log::info("listening", {{"http", http_address.to_string()},
                          {"grpc", grpc_address.to_string()},
                          {"issuer", config.issuer},
                          {"grpc_tls", !config.grpc_tls_cert.empty()},
                          {"color", config.color},
                          {"signing_key", (*identity)->signing_keys.front().kid()},
                          {"data_dir", config.data_dir.string()},
                          {"io_threads", config.io_threads},
                          {"version", ESP_VERSION}});
  log::flush();

  const int signal_number = stop.get_future().get();
  log::info("shutting_down", {{"signal", signal_number},
                              {"open_connections", http_server.open_connections()},
                              {"grace_ms", config.shutdown_timeout.count()}});
  readiness.mark_shutting_down();
  job_board.close();  // waiting calls answer with the operation as it stands
  const auto deadline = std::chrono::steady_clock::now() + config.shutdown_timeout;
  http_server.begin_shutdown();
  std::jthread grpc_stop([&] { (*grpc_server)->shutdown(config.shutdown_timeout); });
  const bool drained =
      http_server.wait_until_drained(std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now()));
  grpc_stop.join();
  io_pool.stop();
  login_guard.hashing.join();
  storage_pool.join();
  workers.stop();
  if (store->notifications) store->notifications->stop();
  log::info("stopped",
            {{"drained", drained}, {"open_connections", http_server.open_connections()}});
  return 0;
}

}  // namespace esp::espd
