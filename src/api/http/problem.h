// RFC 7807 problem details: the body of every error esp answers over HTTP.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "api/http/message.h"
#include "core/error.h"

namespace esp::http {

struct Problem {
  Status status = Status::internal_server_error;
  std::string detail;
  std::string type = "about:blank";
  std::string title;                                     // empty: the status' reason phrase
  nlohmann::json extensions = nlohmann::json::object();  // merged into the body
};

Status status_for(Code code);
// The problem for `error`. Internal and unavailable errors are logged with `request_id`
// and answered with a generic detail: their texts are for operators, not callers.
Problem problem_from(const Error& error, std::string_view request_id);

std::string render_problem(const Problem& problem, std::string_view request_id);
Response problem_response(const Problem& problem, std::string_view request_id);

}  // namespace esp::http
