#include "api/grpc/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <fstream>
#include <sstream>

namespace esp::grpcapi {
namespace {

Result<std::string> read_pem(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return Error{Code::kUnavailable, "cannot read " + file.string()};
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

Result<std::shared_ptr<grpc::ServerCredentials>> credentials_for(const ServerOptions& options) {
  if (options.tls_certificate.empty()) return grpc::InsecureServerCredentials();
  auto chain = read_pem(options.tls_certificate);
  if (!chain.ok()) return chain.error();
  auto key = read_pem(options.tls_key);
  if (!key.ok()) return key.error();
  grpc::SslServerCredentialsOptions tls;
  tls.pem_key_cert_pairs.push_back({*key, *chain});
  return grpc::SslServerCredentials(tls);
}

}  // namespace

Result<std::unique_ptr<Server>> Server::start(const ServerOptions& options,
                                              const std::vector<grpc::Service*>& services) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  const std::string address =
      (options.host.find(':') != std::string::npos ? "[" + options.host + "]" : options.host) +
      ":" + std::to_string(options.port);
  auto credentials = credentials_for(options);
  if (!credentials.ok()) return credentials.error();
  int selected_port = 0;
  builder.AddListeningPort(address, *credentials, &selected_port);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  for (grpc::Service* service : services)
    builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || selected_port == 0) {
    return Error{Code::kUnavailable, "cannot listen for gRPC on " + address};
  }
  auto* health = server->GetHealthCheckService();
  health->SetServingStatus(true);
  // The names the original ESP service's probes (and SDK deployments) ask for.
  for (const char* name : {"population", "grpc.population", "population.PopulationService"})
    health->SetServingStatus(name, true);
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
