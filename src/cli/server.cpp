#include "cli/server.h"

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "core/http_client.h"

namespace esp::cli {
namespace {

using Json = nlohmann::json;

constexpr int kMessageLimit = 1 << 30;
constexpr auto kGenerationDeadline = std::chrono::minutes(30);

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "Path: a.b\nError: reason" pairs (the server's validation format) as "a.b: reason".
std::string validation_lines(const std::string& details) {
  std::string out;
  std::string path;
  std::istringstream lines(details);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("Path: ")) {
      path = line.substr(6);
    } else if (line.starts_with("Error: ")) {
      out += (out.empty() ? "" : "; ") + path + ": " + line.substr(7);
    }
  }
  return out.empty() ? details : out;
}

Error error_of(const grpc::Status& status, const Connection& connection) {
  const std::string details = status.error_message();
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      return {Code::kUnavailable,
              fmt::format("cannot reach espd at {}:{} (gRPC{}): {}", connection.host,
                          connection.port, connection.tls ? ", TLS" : "", details)};
    case grpc::StatusCode::UNAUTHENTICATED:
      return {Code::kUnauthenticated,
              "the server refused the token (" + details + "); " + token_help()};
    case grpc::StatusCode::PERMISSION_DENIED:
      return {Code::kPermissionDenied, "not allowed: " + details};
    case grpc::StatusCode::INVALID_ARGUMENT:
      return {Code::kInvalidArgument, "invalid parameters: " + validation_lines(details)};
    case grpc::StatusCode::NOT_FOUND:
      return {Code::kNotFound, "not found: " + details};
    case grpc::StatusCode::INTERNAL:
      return {Code::kInternal, "operation failed: " + details};
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return {Code::kDeadlineExceeded,
              "the generation is still running; run the same command again to wait for it"};
    default:
      return {Code::kInternal,
              fmt::format("gRPC error {}: {}", static_cast<int>(status.error_code()), details)};
  }
}

Result<std::shared_ptr<grpc::Channel>> channel_for(const Connection& connection) {
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(kMessageLimit);
  arguments.SetMaxSendMessageSize(kMessageLimit);
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  // A certificate name to expect only means something over TLS.
  if (connection.tls || !connection.ssl_host_override.empty()) {
    grpc::SslCredentialsOptions tls;
    if (!connection.ca_file.empty()) {
      std::ifstream file(connection.ca_file);
      if (!file)
        return Error{Code::kInvalidArgument, "cannot read --ca-file " + connection.ca_file};
      std::stringstream pem;
      pem << file.rdbuf();
      tls.pem_root_certs = pem.str();
    }
    credentials = grpc::SslCredentials(tls);
    if (!connection.ssl_host_override.empty())
      arguments.SetSslTargetNameOverride(connection.ssl_host_override);
  }
  return grpc::CreateCustomChannel(connection.host + ":" + std::to_string(connection.port),
                                   credentials, arguments);
}

}  // namespace

std::string token_help() {
  return "get a new one with `esp login --email EMAIL` or `esp token --client-id ID "
         "--client-secret SECRET`";
}

Result<std::string> token_for(const Connection& connection, const TokenCache& cache) {
  if (!connection.token.empty()) return connection.token;
  auto cached = cache.find(connection.rest_url());
  if (!cached) {
    return Error{Code::kUnauthenticated,
                 "no token for " + connection.rest_url() + "; " + token_help()};
  }
  if (cached->expires_at != 0 && cached->expires_at <= now_seconds()) {
    return Error{Code::kUnauthenticated,
                 fmt::format("the token for {} expired {} s ago; {}", connection.rest_url(),
                             now_seconds() - cached->expires_at, token_help())};
  }
  return cached->access_token;
}

Server::Server(Connection connection, std::string token, std::shared_ptr<grpc::Channel> channel)
    : connection_(std::move(connection)),
      token_(std::move(token)),
      channel_(std::move(channel)),
      stub_(::population::PopulationService::NewStub(channel_)) {}

Result<Server> Server::connect(const Connection& connection, const TokenCache& cache) {
  auto token = token_for(connection, cache);
  if (!token.ok()) return token.error();
  auto channel = channel_for(connection);
  if (!channel.ok()) return channel.error();
  return Server(connection, *token, *channel);
}

Result<::population::PopulationResponse> Server::next_population(
    const ::population::PopulationRequest& request) {
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + token_);
  context.set_deadline(std::chrono::system_clock::now() + kGenerationDeadline);
  ::population::PopulationResponse response;
  auto status = stub_->NextPopulation(&context, request, &response);
  if (!status.ok()) return error_of(status, connection_);
  return response;
}

Result<::population::PopulationResponse> Server::get_population(const std::string& experiment_id,
                                                                const std::string& checkpoint_id) {
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + token_);
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(5));
  ::population::ExistingPopulationRequest request;
  request.set_version("v1");
  request.set_experiment_id(experiment_id);
  request.set_checkpoint_id(checkpoint_id);
  ::population::PopulationResponse response;
  auto status = stub_->GetPopulation(&context, request, &response);
  if (!status.ok()) return error_of(status, connection_);
  return response;
}

Result<Json> Server::rest(const std::string& method, const std::string& path,
                          const std::string& body) {
  HttpCall call{.method = method,
                .url = connection_.rest_url() + path,
                .headers = {{"Authorization", "Bearer " + token_}},
                .body = body};
  if (!body.empty()) call.headers.emplace_back("Content-Type", "application/json");
  auto answer = http_call(call, {.timeout = std::chrono::seconds(90), .max_bytes = 1 << 30});
  if (!answer.ok())
    return Error{Code::kUnavailable, "cannot reach espd at " + answer.error().message};
  const auto json =
      answer->body.empty() ? Json::object() : Json::parse(answer->body, nullptr, false);
  if (answer->status >= 200 && answer->status < 300) return json;
  std::string detail = json.is_object() ? json.value("detail", "") : "";
  if (json.is_object() && json.contains("errors")) {
    detail.clear();
    for (const auto& e : json["errors"])
      detail += (detail.empty() ? "" : "; ") + e.value("path", "") + ": " + e.value("reason", "");
  }
  if (answer->status == 401)
    return Error{Code::kUnauthenticated,
                 "the server refused the token (" + detail + "); " + token_help()};
  if (answer->status == 404) return Error{Code::kNotFound, "not found: " + detail};
  if (answer->status == 400) return Error{Code::kInvalidArgument, "invalid request: " + detail};
  return Error{Code::kInternal, fmt::format("HTTP {}: {}", answer->status, detail)};
}

}  // namespace esp::cli
