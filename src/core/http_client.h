// Outgoing HTTP(S) requests with libcurl, for every part that makes them: JWKS
// documents for the verifier, token and REST calls for the command-line client, S3
// requests (SigV4-signed by libcurl) for checkpoint payloads. Handles are kept between
// calls, so connections and TLS sessions stay open.
#pragma once

#include <chrono>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"

namespace esp {

struct HttpCall {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string_view body;    // sent for POST and PUT, and whenever not empty; outlives the call
  std::string aws_sigv4;    // "aws:amz:<region>:<service>": libcurl signs the request
  std::string credentials;  // "user:password" (for SigV4: access key id and secret)
  // When not empty, a 2xx answer's body is written here, and a longer one aborts the
  // transfer: parts of one large body, fetched side by side, land in place. Other answers'
  // bodies (an error's XML) still come in HttpAnswer::body.
  std::span<char> answer_into;
};

struct HttpLimits {
  std::chrono::milliseconds timeout{5000};
  std::size_t max_bytes = 1 << 20;  // a longer answer aborts the transfer
};

struct HttpAnswer {
  long status = 0;
  std::string content_type;
  std::string cache_control;  // the Cache-Control header, empty when absent
  std::string etag;           // the ETag header as sent (quotes kept), empty when absent
  std::string content_range;  // the Content-Range header, empty when absent
  std::string body;
  std::size_t written_into = 0;  // the bytes written to HttpCall::answer_into
};

// One request: http or https only, no redirects, bounded in time and size. Any HTTP
// status is an answer; kUnavailable only when no answer came (refused, timed out).
Result<HttpAnswer> http_call(const HttpCall& call, HttpLimits limits = {});

}  // namespace esp
