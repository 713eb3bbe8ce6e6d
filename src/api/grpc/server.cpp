#include "api/grpc/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

namespace esp::grpcapi {

Result<std::unique_ptr<Server>> Server::start(const ServerOptions& options,
                                              const std::vector<grpc::Service*>& services) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  const std::string address =
      (options.host.find(':') != std::string::npos ? "[" + options.host + "]" : options.host) +
      ":" + std::to_string(options.port);
  int selected_port = 0;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &selected_port);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  for (grpc::Service* service : services)
    builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || selected_port == 0) {
    return Error{Code::kUnavailable, "cannot listen for gRPC on " + address};
  }
  server->GetHealthCheckService()->SetServingStatus(true);
  return std::unique_ptr<Server>(
      new Server(std::move(server), static_cast<std::uint16_t>(selected_port)));
}

Server::Server(std::unique_ptr<grpc::Server> server, std::uint16_t port)
    : server_(std::move(server)), port_(port) {}

Server::~Server() {
  if (server_) shutdown(std::chrono::milliseconds(0));
}

void Server::shutdown(std::chrono::milliseconds grace) {
  if (!server_) return;
  server_->GetHealthCheckService()->SetServingStatus(false);
  server_->Shutdown(std::chrono::system_clock::now() + grace);
  server_->Wait();
  server_.reset();
}

}  // namespace esp::grpcapi
