// Key documents (JWKS) fetched over HTTP(S) for the verifier.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "core/error.h"
#include "core/http_client.h"

namespace esp::auth {

struct FetchedDocument {
  std::string body;
  std::optional<std::chrono::seconds> max_age;  // from Cache-Control, when it says
};

using Fetch = std::function<Result<FetchedDocument>(const std::string& url)>;

// GET `url`; kUnavailable on network errors and non-200 answers.
Result<FetchedDocument> fetch_url(const std::string& url, HttpLimits limits = {});

// The max-age of a Cache-Control value ("public, max-age=300" -> 300 s); nullopt when it
// has none, or says no-store or no-cache (fetch again as soon as allowed: 0 s).
std::optional<std::chrono::seconds> max_age_of(std::string_view cache_control);

}  // namespace esp::auth
