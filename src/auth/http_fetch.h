// HTTP(S) requests with libcurl: JWKS documents for the verifier, token and REST calls
// for the command-line client.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace esp::auth {

using Fetch = std::function<Result<std::string>(const std::string& url)>;

struct FetchLimits {
  std::chrono::milliseconds timeout{5000};
  std::size_t max_bytes = 1 << 20;
};

struct HttpCall {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct HttpAnswer {
  long status = 0;
  std::string content_type;
  std::string body;
};

// One request: http or https only, no redirects, bounded in time and size. Any HTTP
// status is an answer; kUnavailable only when no answer came (refused, timed out).
Result<HttpAnswer> http_call(const HttpCall& call, FetchLimits limits = {});

// GET `url`; kUnavailable on network errors and non-200 answers.
Result<std::string> fetch_url(const std::string& url, FetchLimits limits = {});

}  // namespace esp::auth
