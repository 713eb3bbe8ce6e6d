#include "auth/http_fetch.h"

#include <curl/curl.h>

#include <memory>

namespace esp::auth {
namespace {

struct Body {
  std::string data;
  std::size_t max_bytes;
};

std::size_t append(char* chunk, std::size_t size, std::size_t count, void* user) {
  auto* body = static_cast<Body*>(user);
  const std::size_t bytes = size * count;
  if (body->data.size() + bytes > body->max_bytes) return 0;  // aborts the transfer
  body->data.append(chunk, bytes);
  return bytes;
}

// curl_global_init is not thread-safe; run it once before the first handle.
void init_curl_once() {
  static const bool initialised = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  (void)initialised;
}

}  // namespace

Result<std::string> fetch_url(const std::string& url, FetchLimits limits) {
  init_curl_once();
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return Error{Code::kInternal, "libcurl could not start"};
  Body body{.data = {}, .max_bytes = limits.max_bytes};
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(limits.timeout.count()));
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, append);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &body);
  const CURLcode code = curl_easy_perform(curl.get());
  if (code != CURLE_OK) {
    return Error{Code::kUnavailable,
                 std::string("fetching keys failed: ") + curl_easy_strerror(code)};
  }
  long status = 0;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
  if (status != 200) {
    return Error{Code::kUnavailable, "fetching keys failed: HTTP " + std::to_string(status)};
  }
  return std::move(body.data);
}

}  // namespace esp::auth
