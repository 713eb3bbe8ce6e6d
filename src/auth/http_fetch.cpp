#include "auth/http_fetch.h"

namespace esp::auth {

Result<std::string> fetch_url(const std::string& url, HttpLimits limits) {
  auto answer = http_call({.url = url}, limits);
  if (!answer.ok())
    return Error{Code::kUnavailable, "fetching keys failed: " + answer.error().message};
  if (answer->status != 200) {
    return Error{Code::kUnavailable,
                 "fetching keys failed: HTTP " + std::to_string(answer->status)};
  }
  return std::move(answer->body);
}

}  // namespace esp::auth
