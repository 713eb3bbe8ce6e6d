#include "auth/http_fetch.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace esp::auth {

Result<FetchedDocument> fetch_url(const std::string& url, HttpLimits limits) {
  auto answer = http_call({.url = url}, limits);
  if (!answer.ok())
    return Error{Code::kUnavailable, "fetching keys failed: " + answer.error().message};
  if (answer->status != 200) {
    return Error{Code::kUnavailable,
                 "fetching keys failed: HTTP " + std::to_string(answer->status)};
  }
  return FetchedDocument{std::move(answer->body), max_age_of(answer->cache_control)};
}

std::optional<std::chrono::seconds> max_age_of(std::string_view cache_control) {
  std::string lower(cache_control);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower.find("no-store") != std::string::npos || lower.find("no-cache") != std::string::npos)
    return std::chrono::seconds(0);
  const auto at = lower.find("max-age=");
  if (at == std::string::npos) return std::nullopt;
  const char* first = lower.data() + at + 8;
  std::int64_t seconds = 0;
  auto [end, failure] = std::from_chars(first, lower.data() + lower.size(), seconds);
  if (failure != std::errc() || end == first || seconds < 0) return std::nullopt;
  return std::chrono::seconds(seconds);
}

}  // namespace esp::auth
