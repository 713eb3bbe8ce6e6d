#include "espd/serve.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <thread>

#include "api/rest/readiness.h"
#include "auth/accounts.h"
#include "auth/digest.h"
#include "auth/issuer.h"
#include "auth/key_config.h"
#include "auth/verifier.h"
#include "core/files.h"
#include "core/heap.h"
#include "core/large_blocks.h"
#include "esp_commit.h"
#include "espd/population.h"
#include "espd/storage.h"
#include "espd/transports.h"
#include "observability/log.h"
#include "observability/process.h"
#include "population/workers.h"
#include "store/store.h"

namespace esp::espd {

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

population::WorkerOptions worker_options(const config::Config& config) {
  return {.workers = config.workers,
          .engine_threads = std::max(1U, std::thread::hardware_concurrency()),
          .lease = config.job_lease,
          .max_attempts = static_cast<int>(config.job_max_attempts),
          .heartbeat = config.job_lease / 3,
          .replica = replica_name(),
          .keep_genomes_bytes = static_cast<std::size_t>(config.keep_genomes_bytes)};
}

int serve(const config::Config& config) {
  core::limit_heap_arenas(static_cast<int>(std::max(2U, std::thread::hardware_concurrency())));
  if (auto ready = prepare_data_dir(config.data_dir); !ready) {
    log::error("startup_failed", {{"detail", ready.error().message}});
    return 1;
  }
  auto store = open_store(config);
  if (!store.ok()) {
    log::error("startup_failed", {{"detail", store.error().message}});
    return 1;
  }
  // A deployment that keeps genomes this big between generations keeps the blocks its
  // generations are bred and written in too (a quarter more, for the bytes).
  core::keep_large_blocks_up_to(std::max<std::size_t>(
      core::kDefaultLargestKeptBlock, config.keep_genomes_bytes + config.keep_genomes_bytes / 4));
  auto identity = make_identity(config);
  if (!identity.ok()) {
    log::error("invalid_configuration", {{"detail", identity.error().message}});
    return 2;
  }
  auth::Accounts accounts(*store->users, *store->clients);
  PopulationCore population(*store, config);
  forward_job_notifications(*store, population.board);
  population.workers.start();

  metrics::Registry registry;
  describe_process(registry);
  rest::Readiness readiness;
  add_readiness_checks(readiness, config, population.workers, *store->users);
  readiness.start();

  Transports transports(config, {.issuer = (*identity)->issuer,
                                 .verifier = (*identity)->verifier,
                                 .accounts = accounts,
                                 .population = population,
                                 .registry = registry,
                                 .readiness = readiness});
  if (auto started = transports.start(); !started.ok()) {
    log::error("startup_failed", {{"detail", started.error().message}});
    return 1;
  }
  log::info("listening", {{"http", transports.http_address().to_string()},
                          {"grpc", transports.grpc_address().to_string()},
                          {"issuer", config.issuer},
                          {"grpc_tls", !config.grpc_tls_cert.empty()},
                          {"color", config.color},
                          {"signing_key", (*identity)->signing_keys.front().kid()},
                          {"data_dir", config.data_dir.string()},
                          {"io_threads", config.io_threads},
                          {"version", ESP_VERSION}});
  log::flush();

  const int signal_number = transports.wait_for_signal();
  log::info("shutting_down", {{"signal", signal_number},
                              {"open_connections", transports.open_connections()},
                              {"grace_ms", config.shutdown_timeout.count()}});
  readiness.mark_shutting_down();
  population.board.close();  // waiting calls answer with the operation as it stands
  const bool drained = transports.shut_down(config.shutdown_timeout);
  population.stop();
  if (store->notifications) store->notifications->stop();
  log::info("stopped", {{"drained", drained}, {"open_connections", transports.open_connections()}});
  return 0;
}

}  // namespace esp::espd
