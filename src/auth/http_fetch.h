// Fetches a JWKS document over HTTP(S) with libcurl.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "core/error.h"

namespace esp::auth {

using Fetch = std::function<Result<std::string>(const std::string& url)>;

struct FetchLimits {
  std::chrono::milliseconds timeout{5000};
  std::size_t max_bytes = 1 << 20;
};

// GET `url`: http or https only, no redirects, bounded in time and size; kUnavailable
// on network errors and non-200 answers.
Result<std::string> fetch_url(const std::string& url, FetchLimits limits = {});

}  // namespace esp::auth
