#include "api/http/problem.h"

#include <fmt/format.h>

#include "observability/log.h"

namespace esp::http {

Status status_for(Code code) {
  switch (code) {
    case Code::kInvalidArgument:
      return Status::bad_request;
    case Code::kNotFound:
      return Status::not_found;
    case Code::kAlreadyExists:
      return Status::conflict;
    case Code::kFailedPrecondition:
      return Status::conflict;
    case Code::kUnauthenticated:
      return Status::unauthorized;
    case Code::kPermissionDenied:
      return Status::forbidden;
    case Code::kResourceExhausted:
      return Status::payload_too_large;
    case Code::kUnavailable:
      return Status::service_unavailable;
    case Code::kCancelled:
      return Status::conflict;
    case Code::kDeadlineExceeded:
      return Status::gateway_timeout;
    case Code::kInternal:
      return Status::internal_server_error;
  }
  return Status::internal_server_error;
}

Problem problem_from(const Error& error, std::string_view request_id) {
  const auto detail = public_detail(error.code);
  if (detail.empty()) return Problem{.status = status_for(error.code), .detail = error.message};
  log::error(
      "request_failed",
      {{"request_id", request_id}, {"code", code_name(error.code)}, {"detail", error.message}});
  return Problem{.status = status_for(error.code),
                 .detail = fmt::format("{} (request {})", detail, request_id)};
}

std::string render_problem(const Problem& problem, std::string_view request_id) {
  nlohmann::json body =
      problem.extensions.is_object() ? problem.extensions : nlohmann::json::object();
  body["type"] = problem.type;
  body["title"] = problem.title.empty() ? std::string(beast_http::obsolete_reason(problem.status))
                                        : problem.title;
  body["status"] = static_cast<unsigned>(problem.status);
  if (!problem.detail.empty()) body["detail"] = problem.detail;
  if (!request_id.empty()) body["request_id"] = request_id;
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Response problem_response(const Problem& problem, std::string_view request_id) {
  return text_response(problem.status, render_problem(problem, request_id),
                       "application/problem+json");
}

}  // namespace esp::http
