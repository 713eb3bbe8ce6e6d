// One espd as the command-line client sees it: gRPC for populations, REST for
// experiments and operations, with the caller's token on every call. Errors come back
// as one line a person can act on.
#pragma once

#include <grpcpp/channel.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/tokens.h"
#include "core/error.h"
#include "population_service.grpc.pb.h"

namespace esp::cli {

struct Connection {
  std::string host = "127.0.0.1";
  int port = 50051;  // gRPC
  bool tls = false;
  std::string ca_file;            // PEM roots for --tls (default: the system's)
  std::string ssl_host_override;  // the name the certificate is for
  std::string url;                // REST base URL, default http://<host>:8080
  std::string token;              // explicit token (--token, ESP_TOKEN)

  std::string rest_url() const { return url.empty() ? "http://" + host + ":8080" : url; }
};

// The token to use: the explicit one, else the one cached for the server. An expired or
// missing one is kUnauthenticated naming the command that gets a new one.
Result<std::string> token_for(const Connection& connection, const TokenCache& cache);

// The sentence for a token the server refused, with the command to get a new one.
std::string token_help();

class Server {
 public:
  static Result<Server> connect(const Connection& connection, const TokenCache& cache);

  Result<::population::PopulationResponse> next_population(
      const ::population::PopulationRequest& request);
  Result<::population::PopulationResponse> get_population(const std::string& experiment_id,
                                                          const std::string& checkpoint_id);
  // A REST call; problem+json answers become errors carrying their detail.
  Result<nlohmann::json> rest(const std::string& method, const std::string& path,
                              const std::string& body = "");

 private:
  Server(Connection connection, std::string token, std::shared_ptr<grpc::Channel> channel);
  Connection connection_;
  std::string token_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<::population::PopulationService::Stub> stub_;
};

}  // namespace esp::cli
