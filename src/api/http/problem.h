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
Problem problem_from(const Error& error);

std::string render_problem(const Problem& problem, std::string_view request_id);
Response problem_response(const Problem& problem, std::string_view request_id);

}  // namespace esp::http
