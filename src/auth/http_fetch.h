// Key documents (JWKS) fetched over HTTP(S) for the verifier.
#pragma once

#include <functional>
#include <string>

#include "core/error.h"
#include "core/http_client.h"

namespace esp::auth {

using Fetch = std::function<Result<std::string>(const std::string& url)>;

// GET `url`; kUnavailable on network errors and non-200 answers.
Result<std::string> fetch_url(const std::string& url, HttpLimits limits = {});

}  // namespace esp::auth
