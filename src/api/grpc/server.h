// The gRPC listener: serves the registered services plus grpc.health.v1 and
// server reflection, and shuts down with the rest of espd.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"

namespace grpc {
class Server;
class Service;
}  // namespace grpc

namespace esp::grpcapi {

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 50051;
  int max_message_bytes = 256 << 20;
  // Both set: TLS with this PEM chain and key. Empty: plaintext.
  std::filesystem::path tls_certificate;
  std::filesystem::path tls_key;
};

class Server {
 public:
  // Services are borrowed and must outlive the server.
  static Result<std::unique_ptr<Server>> start(const ServerOptions& options,
                                               const std::vector<grpc::Service*>& services);
  ~Server();

  std::uint16_t port() const { return port_; }
  // Marks the health service NOT_SERVING and waits for calls in flight, up
  // to `grace`, before cancelling the rest.
  void shutdown(std::chrono::milliseconds grace);

 private:
  Server(std::unique_ptr<grpc::Server> server, std::uint16_t port);
  std::unique_ptr<grpc::Server> server_;
  std::uint16_t port_;
};

}  // namespace esp::grpcapi
