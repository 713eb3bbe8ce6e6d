#include "api/grpc/population_service.h"

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include <future>
#include <optional>

#include "api/grpc/call_log.h"
#include "auth/digest.h"
#include "codec/candidate_json.h"
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

// The contract's validation format: the message, then a "Path:" and an "Error:" line per
// issue.
std::string message_of(const Error& error) {
  std::string message = error.message;
  for (const auto& issue : error.issues)
    message += fmt::format("\nPath: {}\nError: {}", issue.path, issue.reason);
  return message;
}

// An admin reads another owner's records by naming them in this metadata entry (REST's
// ?owner=).
constexpr std::string_view kOwnerMetadata = "esp-owner";

std::optional<std::string> owner_named(const grpc::ServerContext& context) {
  const auto& metadata = context.client_metadata();
  auto found = metadata.find(grpc::string_ref(kOwnerMetadata.data(), kOwnerMetadata.size()));
  if (found == metadata.end()) return std::nullopt;
  return std::string(found->second.data(), found->second.size());
}

// The use case's request from the SDK's message; the candidates' metrics are JSON text.
Result<population::GenerationRequest> generation_request(
    const ::population::PopulationRequest& request) {
  // The contract: every call carries its parameters.
  if (request.config().empty())
    return Error{Code::kInvalidArgument, "No experiment params supplied"};
  population::GenerationRequest generation{.experiment_id = request.experiment_id(),
                                           .params_json = request.config()};
  if (!request.has_evaluated_population_response()) return generation;
  const auto& evaluated = request.evaluated_population_response();
  auto& scores = generation.evaluated.emplace();
  scores.checkpoint_id = evaluated.checkpoint_id();
  for (int i = 0; i < evaluated.population_size(); ++i) {
    const auto& candidate = evaluated.population(i);
    auto metrics = codec::metrics_from_json(candidate.metrics());
    if (!metrics.ok()) {
      return Error{Code::kInvalidArgument,
                   "candidate " + candidate.id() + ": " + metrics.error().message};
    }
    scores.metrics[candidate.id()] = std::move(*metrics);
  }
  return generation;
}

}  // namespace

grpc::Status status_of(const Error& error) {
  const auto detail = public_detail(error.code);
  if (detail.empty()) return {code_of(error.code), message_of(error)};
  auto reference = auth::random_id(8);
  const std::string id = reference.ok() ? "grpc-" + *reference : "grpc";
  log::error("call_failed",
             {{"request_id", id}, {"code", code_name(error.code)}, {"detail", error.message}});
  return {code_of(error.code), fmt::format("{} (request {})", detail, id)};
}

grpc::Status PopulationService::answer(::population::PopulationResponse&& population,
                                       ::population::PopulationResponse* response) const {
  const std::size_t size = population.ByteSizeLong();
  if (size > max_message_bytes_) {
    return {grpc::StatusCode::RESOURCE_EXHAUSTED,
            fmt::format(
                "the population is {} bytes, over the {} byte message limit (--grpc-max-message)",
                size, max_message_bytes_)};
  }
  response->Swap(&population);  // tens of megabytes: moved, not copied
  return grpc::Status::OK;
}

grpc::Status PopulationService::next_population(std::string& subject, grpc::ServerContext* context,
                                                const ::population::PopulationRequest* request,
                                                ::population::PopulationResponse* response) {
  auto caller = auth_.authenticate(*context, auth::Scope::kWrite, subject);
  if (!caller.ok()) {
    log::warn("auth_failed", {{"reason", caller.error().message}, {"method", "NextPopulation"}});
    return status_of(caller.error());
  }
  auto generation = generation_request(*request);
  if (!generation.ok()) return status_of(generation.error());
  auto job = generations_.submit(*caller, *generation);
  if (!job.ok()) return status_of(job.error());
  // The synchronous API holds this thread until the population is bred; the use case
  // itself holds none, so the async API can take this over.
  std::promise<Result<population::Generations::Ended>> bred;
  generations_.when_bred(
      *caller, job->id, deadline_of(*context),
      [&bred](Result<population::Generations::Ended> ended) { bred.set_value(std::move(ended)); });
  auto ended = bred.get_future().get();
  if (!ended.ok()) return status_of(ended.error());
  if (ended->job.status == store::JobStatus::kFailed) {
    log::error("generation_failed", {{"operation", ended->job.id}, {"detail", ended->job.error}});
    const Error failure = population::failure_of(ended->job);
    return {code_of(failure.code), failure.message};
  }
  if (ended->job.status == store::JobStatus::kCancelled) {
    return {grpc::StatusCode::CANCELLED, "operation " + ended->job.id + " was cancelled"};
  }
  return answer(std::move(*ended->population), response);
}

grpc::Status PopulationService::get_population(
    std::string& subject, grpc::ServerContext* context,
    const ::population::ExistingPopulationRequest* request,
    ::population::PopulationResponse* response) {
  auto caller = auth_.authenticate(*context, auth::Scope::kRead, subject);
  if (!caller.ok()) {
    log::warn("auth_failed", {{"reason", caller.error().message}, {"method", "GetPopulation"}});
    return status_of(caller.error());
  }
  auto population = generations_.checkpoint(*caller, owner_named(*context),
                                            request->experiment_id(), request->checkpoint_id());
  if (!population.ok()) return status_of(population.error());
  return answer(std::move(*population), response);
}

grpc::Status PopulationService::NextPopulation(grpc::ServerContext* context,
                                               const ::population::PopulationRequest* request,
                                               ::population::PopulationResponse* response) {
  return logged_call(
      *context, "NextPopulation", request->experiment_id(),
      [&](std::string& subject) { return next_population(subject, context, request, response); });
}

grpc::Status PopulationService::GetPopulation(
    grpc::ServerContext* context, const ::population::ExistingPopulationRequest* request,
    ::population::PopulationResponse* response) {
  return logged_call(
      *context, "GetPopulation", request->experiment_id(),
      [&](std::string& subject) { return get_population(subject, context, request, response); });
}

}  // namespace esp::grpcapi
