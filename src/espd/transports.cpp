#include "espd/transports.h"

#include <csignal>
#include <filesystem>
#include <thread>

#include "api/rest/dashboard.h"
#include "api/rest/docs.h"
#include "esp_commit.h"

namespace esp::espd {

Transports::Transports(const config::Config& config, Served served)
    : config_(config),
      health_{{ESP_VERSION, ESP_COMMIT}, served.registry, served.readiness},
      login_guard_(rest::LoginLimits{}, served.registry),
      identity_{served.accounts, served.issuer, served.verifier, login_guard_},
      population_{served.verifier, served.population.records, served.population.generations,
                  served.population.storage_pool},
      access_(served.registry),
      io_pool_(config.io_threads),
      http_server_(io_pool_, config.http, router_, access_),
      signals_(io_pool_.first(), SIGINT, SIGTERM),
      call_auth_(served.verifier, config.allow_anonymous_loopback),
      population_service_(served.population.generations, call_auth_, served.population.storage_pool,
                          static_cast<std::size_t>(config.grpc_max_message_bytes)),
      system_info_service_({ESP_VERSION, ESP_COMMIT, config.color}, call_auth_) {
  rest::add_routes(router_, health_);
  rest::add_identity_routes(router_, identity_);
  rest::add_population_routes(router_, population_);
  rest::add_docs_routes(
      router_, config.ui_dir.empty() ? std::filesystem::path(ESP_DEFAULT_UI_DIR) : config.ui_dir);
  rest::add_dashboard_routes(router_, config.dashboard_dir.empty()
                                          ? std::filesystem::path(ESP_DEFAULT_DASHBOARD_DIR)
                                          : config.dashboard_dir);
}

Result<bool> Transports::start() {
  auto http_endpoint = http_server_.listen(config_.http_addr.host, config_.http_addr.port);
  if (!http_endpoint) return http_endpoint.error();
  http_address_ = {http_endpoint->address().to_string(), http_endpoint->port()};
  auto grpc_server =
      grpcapi::Server::start({.host = config_.grpc_addr.host,
                              .port = config_.grpc_addr.port,
                              .max_message_bytes = static_cast<int>(config_.grpc_max_message_bytes),
                              .tls_certificate = config_.grpc_tls_cert,
                              .tls_key = config_.grpc_tls_key},
                             {&population_service_, &system_info_service_});
  if (!grpc_server) return grpc_server.error();
  grpc_server_ = std::move(*grpc_server);
  grpc_address_ = {config_.grpc_addr.host, grpc_server_->port()};
  signals_.async_wait([this](const boost::system::error_code& ec, int signal_number) {
    stop_.set_value(ec ? 0 : signal_number);
  });
  io_pool_.start();
  return true;
}

int Transports::wait_for_signal() {
  return stop_.get_future().get();
}

bool Transports::shut_down(std::chrono::milliseconds grace) {
  const auto deadline = std::chrono::steady_clock::now() + grace;
  http_server_.begin_shutdown();
  std::jthread grpc_stop([&] { grpc_server_->shutdown(grace); });
  const bool drained =
      http_server_.wait_until_drained(std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now()));
  grpc_stop.join();
  io_pool_.stop();
  login_guard_.hashing.join();
  return drained;
}

}  // namespace esp::espd
