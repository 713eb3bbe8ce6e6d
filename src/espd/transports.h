// The transports over the use cases: HTTP (REST, identity, health, metrics, docs) and
// gRPC, from listening to a graceful shutdown.
#pragma once

#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <future>
#include <memory>

#include "api/grpc/population_service.h"
#include "api/grpc/server.h"
#include "api/grpc/system_info_service.h"
#include "api/http/access.h"
#include "api/http/io_pool.h"
#include "api/http/server.h"
#include "api/rest/identity.h"
#include "api/rest/login_guard.h"
#include "api/rest/population.h"
#include "api/rest/readiness.h"
#include "api/rest/routes.h"
#include "auth/accounts.h"
#include "auth/issuer.h"
#include "auth/verifier.h"
#include "config/config.h"
#include "core/error.h"
#include "espd/population.h"
#include "observability/metrics.h"

namespace esp::espd {

// What the transports serve, built before them and outliving them.
struct Served {
  const auth::TokenIssuer& issuer;
  const auth::Verifier& verifier;
  auth::Accounts& accounts;
  PopulationCore& population;
  metrics::Registry& registry;
  rest::Readiness& readiness;
};

class Transports {
 public:
  Transports(const config::Config& config, Served served);
  Transports(const Transports&) = delete;
  Transports& operator=(const Transports&) = delete;

  // Binds both listeners and starts the I/O threads; kUnavailable when a port is taken.
  Result<bool> start();
  // Blocks until SIGINT or SIGTERM; the signal's number.
  int wait_for_signal();
  // Stops accepting, lets calls in flight finish within `grace`, then stops the I/O
  // threads; whether every HTTP connection ended in time.
  bool shut_down(std::chrono::milliseconds grace);

  config::Address http_address() const { return http_address_; }
  config::Address grpc_address() const { return grpc_address_; }
  std::size_t open_connections() const { return http_server_.open_connections(); }

 private:
  const config::Config& config_;
  rest::Services health_;
  http::Router router_;
  rest::LoginGuard login_guard_;
  rest::IdentityServices identity_;
  rest::PopulationServices population_;
  http::AccessRecorder access_;
  http::IoPool io_pool_;
  http::Server http_server_;
  // Made before the listeners, so a signal that arrives while they start is not lost.
  boost::asio::signal_set signals_;
  std::promise<int> stop_;
  grpcapi::CallAuthenticator call_auth_;
  grpcapi::PopulationService population_service_;
  grpcapi::SystemInfoService system_info_service_;
  std::unique_ptr<grpcapi::Server> grpc_server_;
  config::Address http_address_;
  config::Address grpc_address_;
};

}  // namespace esp::espd
