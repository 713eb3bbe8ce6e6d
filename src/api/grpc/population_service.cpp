#include "api/grpc/population_service.h"

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include "auth/authorization.h"
#include "observability/log.h"

namespace esp::grpcapi {
namespace {

// Waits longer than this only happen without a client deadline; the job keeps running
// and the same request picks it up again.
constexpr auto kLongestWait = std::chrono::minutes(10);

std::chrono::steady_clock::time_point deadline_of(const grpc::ServerContext& context) {
  const auto remaining = context.deadline() - std::chrono::system_clock::now();
  const auto bounded = std::min<std::chrono::system_clock::duration>(remaining, kLongestWait);
  return std::chrono::steady_clock::now() +
         std::chrono::duration_cast<std::chrono::steady_clock::duration>(bounded);
}

grpc::StatusCode code_of(Code code) {
  switch (code) {
    case Code::kInvalidArgument:
      return grpc::StatusCode::INVALID_ARGUMENT;
    case Code::kNotFound:
      return grpc::StatusCode::NOT_FOUND;
    case Code::kAlreadyExists:
      return grpc::StatusCode::ALREADY_EXISTS;
    case Code::kFailedPrecondition:
      return grpc::StatusCode::FAILED_PRECONDITION;
    case Code::kUnauthenticated:
      return grpc::StatusCode::UNAUTHENTICATED;
    case Code::kPermissionDenied:
      return grpc::StatusCode::PERMISSION_DENIED;
    case Code::kResourceExhausted:
      return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case Code::kUnavailable:
      return grpc::StatusCode::UNAVAILABLE;
    case Code::kCancelled:
      return grpc::StatusCode::CANCELLED;
    case Code::kDeadlineExceeded:
      return grpc::StatusCode::DEADLINE_EXCEEDED;
    case Code::kInternal:
      return grpc::StatusCode::INTERNAL;
  }
  return grpc::StatusCode::INTERNAL;
}

}  // namespace

grpc::Status status_of(const Error& error) {
  return {code_of(error.code), error.message};
}

Result<population::Caller> PopulationService::authenticate(const grpc::ServerContext& context,
                                                           auth::Scope scope,
                                                           std::string& subject) const {
  const auto& metadata = context.client_metadata();
  auto header = metadata.find("authorization");
  if (header == metadata.end()) return Error{Code::kUnauthenticated, "a bearer token is required"};
  auto token = auth::credentials_for({header->second.data(), header->second.size()}, "Bearer");
  if (!token) {
    return Error{Code::kUnauthenticated, "the authorization metadata must be 'Bearer <token>'"};
  }
  auto claims = verifier_.verify(*token);
  if (!claims.ok()) return claims.error();
  subject = claims->subject;
  if (!claims->scopes.has(scope)) {
    return Error{Code::kPermissionDenied,
                 "this call needs the scope " + std::string(auth::name_of(scope))};
  }
  return population::Caller{claims->subject};
}

grpc::Status PopulationService::answer(const ::population::PopulationResponse& population,
                                       ::population::PopulationResponse* response) const {
  const std::size_t size = population.ByteSizeLong();
  if (size > max_message_bytes_) {
    return {grpc::StatusCode::RESOURCE_EXHAUSTED,
            fmt::format(
                "the population is {} bytes, over the {} byte message limit (--grpc-max-message)",
                size, max_message_bytes_)};
  }
  *response = population;
  return grpc::Status::OK;
}

grpc::Status PopulationService::next_population(std::string& subject, grpc::ServerContext* context,
                                                const ::population::PopulationRequest* request,
                                                ::population::PopulationResponse* response) {
  auto caller = authenticate(*context, auth::Scope::kWrite, subject);
  if (!caller.ok()) {
    log::warn("auth_failed", {{"reason", caller.error().message}, {"method", "NextPopulation"}});
    return status_of(caller.error());
  }
  auto job = generations_.submit(*caller, *request);
  if (!job.ok()) return status_of(job.error());
  auto ended = generations_.wait(job->id, deadline_of(*context));
  if (!ended.ok()) return status_of(ended.error());
  if (ended->status == store::JobStatus::kFailed) {
    log::error("generation_failed", {{"operation", ended->id}, {"detail", ended->error}});
    return {grpc::StatusCode::INTERNAL, "the generation failed (operation " + ended->id + ")"};
  }
  if (ended->status == store::JobStatus::kCancelled) {
    return {grpc::StatusCode::CANCELLED, "operation " + ended->id + " was cancelled"};
  }
  auto population =
      generations_.checkpoint(*caller, request->experiment_id(), ended->result_checkpoint);
  if (!population.ok()) return status_of(population.error());
  return answer(*population, response);
}

grpc::Status PopulationService::get_population(
    std::string& subject, grpc::ServerContext* context,
    const ::population::ExistingPopulationRequest* request,
    ::population::PopulationResponse* response) {
  auto caller = authenticate(*context, auth::Scope::kRead, subject);
  if (!caller.ok()) {
    log::warn("auth_failed", {{"reason", caller.error().message}, {"method", "GetPopulation"}});
    return status_of(caller.error());
  }
  auto population =
      generations_.checkpoint(*caller, request->experiment_id(), request->checkpoint_id());
  if (!population.ok()) return status_of(population.error());
  return answer(*population, response);
}

// One log line per call, like the HTTP access log: method, status, time, caller.
template <typename Call>
grpc::Status logged_call(std::string_view method, const std::string& experiment, Call call) {
  const auto started = std::chrono::steady_clock::now();
  std::string subject;
  grpc::Status status = call(subject);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  log::info("grpc_call", {{"method", method},
                          {"code", static_cast<int>(status.error_code())},
                          {"duration_ms", ms},
                          {"experiment", experiment},
                          {"subject", subject}});
  return status;
}

grpc::Status PopulationService::NextPopulation(grpc::ServerContext* context,
                                               const ::population::PopulationRequest* request,
                                               ::population::PopulationResponse* response) {
  return logged_call("NextPopulation", request->experiment_id(), [&](std::string& subject) {
    return next_population(subject, context, request, response);
  });
}

grpc::Status PopulationService::GetPopulation(
    grpc::ServerContext* context, const ::population::ExistingPopulationRequest* request,
    ::population::PopulationResponse* response) {
  return logged_call("GetPopulation", request->experiment_id(), [&](std::string& subject) {
    return get_population(subject, context, request, response);
  });
}

}  // namespace esp::grpcapi
