#include "api/grpc/population_service.h"

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/support/proto_buffer_reader.h>

#include <atomic>
#include <boost/asio/post.hpp>
#include <optional>

#include "api/grpc/call_log.h"
#include "api/grpc/population_request.h"
#include "auth/digest.h"
#include "observability/log.h"

namespace esp::grpcapi {
namespace {

// Waits longer than this only happen without a client deadline; the job keeps running
// and the same request picks it up again.
constexpr auto kLongestWait = std::chrono::minutes(10);

std::chrono::steady_clock::time_point deadline_of(const grpc::ServerContextBase& context) {
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

std::optional<std::string> owner_named(const grpc::ServerContextBase& context) {
  const auto& metadata = context.client_metadata();
  auto found = metadata.find(grpc::string_ref(kOwnerMetadata.data(), kOwnerMetadata.size()));
  if (found == metadata.end()) return std::nullopt;
  return std::string(found->second.data(), found->second.size());
}

Result<::population::ExistingPopulationRequest> read_existing_request(
    const grpc::ByteBuffer& request) {
  ::population::ExistingPopulationRequest message;
  if (!request.Valid()) return message;  // no bytes: every field empty
  grpc::ByteBuffer shared(request);      // the same slices, referenced again
  grpc::ProtoBufferReader bytes(&shared);
  if (!bytes.status().ok() || !message.ParseFromZeroCopyStream(&bytes))
    return Error{Code::kInvalidArgument, "the request is not an ExistingPopulationRequest message"};
  return message;
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

grpc::ByteBuffer message_of(population::SharedBytes bytes) {
  std::vector<grpc::Slice> slices;
  for (std::string_view piece : bytes.pieces) {
    if (piece.empty()) continue;
    // gRPC only reads a slice; it calls the destroy function once it has sent it.
    auto* owner = new std::shared_ptr<const void>(bytes.owner);
    slices.emplace_back(
        const_cast<char*>(piece.data()), piece.size(),
        [](void* kept) { delete static_cast<std::shared_ptr<const void>*>(kept); }, owner);
  }
  if (slices.empty()) slices.emplace_back();
  return grpc::ByteBuffer(slices.data(), slices.size());
}

// One call in flight: its context, where its answer goes, and its log line. Every path
// ends in exactly one finish.
class PopulationService::Call {
 public:
  Call(grpc::CallbackServerContext* context, grpc::ByteBuffer* response, std::string_view method)
      : log(method),
        context_(*context),
        reactor_(context->DefaultReactor()),
        response_(*response) {}

  CallLog log;

  grpc::ServerUnaryReactor* reactor() const { return reactor_; }
  const grpc::CallbackServerContext& context() const { return context_; }

  void answer(population::SharedBytes population, std::size_t max_message_bytes) {
    if (population.size() > max_message_bytes) {
      return finish({grpc::StatusCode::RESOURCE_EXHAUSTED,
                     fmt::format("the population is {} bytes, over the {} byte message limit "
                                 "(--grpc-max-message)",
                                 population.size(), max_message_bytes)});
    }
    finish(grpc::Status::OK, std::move(population));
  }

  void fail(const Error& error) { finish(status_of(error)); }

  void finish(const grpc::Status& status, std::optional<population::SharedBytes> answer = {}) {
    if (finished_.exchange(true)) return;
    if (answer) response_ = message_of(std::move(*answer));
    log.ended(context_, status);
    reactor_->Finish(status);  // the context and the response are gRPC's again after this
  }

 private:
  const grpc::CallbackServerContext& context_;
  grpc::ServerUnaryReactor* reactor_;
  grpc::ByteBuffer& response_;
  std::atomic<bool> finished_ = false;
};

// The call's work runs on the pool; an exception ends it as an internal error, never
// espd.
template <typename Work>
grpc::ServerUnaryReactor* PopulationService::start(grpc::CallbackServerContext* context,
                                                   grpc::ByteBuffer* response,
                                                   std::string_view method, Work work) {
  auto call = std::make_shared<Call>(context, response, method);
  auto* reactor = call->reactor();
  boost::asio::post(pool_, [call = std::move(call), work = std::move(work)]() mutable {
    try {
      work(call);
    } catch (const std::exception& e) {
      call->fail(Error{Code::kInternal, e.what()});
    }
  });
  return reactor;
}

void PopulationService::next_population(std::shared_ptr<Call> call, grpc::ByteBuffer& request) {
  call->log.experiment = experiment_named(request);
  auto caller = auth_.authenticate(call->context(), auth::Scope::kWrite, call->log.subject);
  if (!caller.ok()) {
    log::warn("auth_failed", {{"reason", caller.error().message}, {"method", "NextPopulation"}});
    return call->fail(caller.error());
  }
  std::vector<InterpretationSpan> spans;
  auto generation = read_generation_request(request, &spans);
  // The request repeats every weight of the population (hundreds of MB for a big one).
  // Its interpretations go to the worker, which may copy the parents it breeds from out of
  // them; everything else needed is copied out now. Either way it is let go before the
  // generation breeds rather than when the call ends.
  if (generation.ok() && !spans.empty()) {
    generation->interpretations = sent_interpretations(request, std::move(spans));
  } else {
    let_go(request);
  }
  if (!generation.ok()) return call->fail(generation.error());
  auto job = generations_.submit(*caller, std::move(*generation));
  if (!job.ok()) return call->fail(job.error());
  generations_.when_bred(
      *caller, job->id, deadline_of(call->context()),
      [this, call, input = job->input_blob_key](Result<population::Generations::Ended> ended) {
        generations_.forget_input(input);
        if (!ended.ok()) return call->fail(ended.error());
        if (ended->job.status == store::JobStatus::kFailed) {
          log::error("generation_failed",
                     {{"operation", ended->job.id}, {"detail", ended->job.error}});
          const Error failure = population::failure_of(ended->job);
          return call->finish({code_of(failure.code), failure.message});
        }
        if (ended->job.status == store::JobStatus::kCancelled)
          return call->finish(
              {grpc::StatusCode::CANCELLED, "operation " + ended->job.id + " was cancelled"});
        call->answer(std::move(ended->population), max_message_bytes_);
      });
}

void PopulationService::get_population(Call& call, const grpc::ByteBuffer& request) {
  auto wanted = read_existing_request(request);
  if (wanted.ok()) call.log.experiment = wanted->experiment_id();
  auto caller = auth_.authenticate(call.context(), auth::Scope::kRead, call.log.subject);
  if (!caller.ok()) {
    log::warn("auth_failed", {{"reason", caller.error().message}, {"method", "GetPopulation"}});
    return call.fail(caller.error());
  }
  if (!wanted.ok()) return call.fail(wanted.error());
  auto population = generations_.checkpoint_bytes(*caller, owner_named(call.context()),
                                                  wanted->experiment_id(), wanted->checkpoint_id());
  if (!population.ok()) return call.fail(population.error());
  call.answer(std::move(*population), max_message_bytes_);
}

grpc::ServerUnaryReactor* PopulationService::NextPopulation(grpc::CallbackServerContext* context,
                                                            const grpc::ByteBuffer* request,
                                                            grpc::ByteBuffer* response) {
  // gRPC's message holder owns this ByteBuffer as a mutable object and reads it no more
  // once the method has it (grpcpp/impl/codegen/server_callback_handlers.h); the const is
  // only the generated signature's, so the call may release it early.
  auto* owned = const_cast<grpc::ByteBuffer*>(request);
  return start(context, response, "NextPopulation",
               [this, owned](const std::shared_ptr<Call>& call) { next_population(call, *owned); });
}

grpc::ServerUnaryReactor* PopulationService::GetPopulation(grpc::CallbackServerContext* context,
                                                           const grpc::ByteBuffer* request,
                                                           grpc::ByteBuffer* response) {
  return start(
      context, response, "GetPopulation",
      [this, request](const std::shared_ptr<Call>& call) { get_population(*call, *request); });
}

}  // namespace esp::grpcapi
