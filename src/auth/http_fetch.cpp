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

Result<HttpAnswer> http_call(const HttpCall& call, FetchLimits limits) {
  init_curl_once();
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return Error{Code::kInternal, "libcurl could not start"};
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(nullptr, curl_slist_free_all);
  for (const auto& [name, value] : call.headers)
    headers.reset(curl_slist_append(headers.release(), (name + ": " + value).c_str()));
  Body body{.data = {}, .max_bytes = limits.max_bytes};
  CURL* handle = curl.get();
  curl_easy_setopt(handle, CURLOPT_URL, call.url.c_str());
  curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, call.method.c_str());
  if (call.method != "GET") {
    curl_easy_setopt(handle, CURLOPT_POSTFIELDS, call.body.data());
    curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(call.body.size()));
  }
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(limits.timeout.count()));
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, append);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &body);
  const CURLcode code = curl_easy_perform(handle);
  if (code != CURLE_OK) {
    return Error{Code::kUnavailable, call.url + ": " + curl_easy_strerror(code)};
  }
  HttpAnswer answer;
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &answer.status);
  char* type = nullptr;
  curl_easy_getinfo(handle, CURLINFO_CONTENT_TYPE, &type);
  if (type != nullptr) answer.content_type = type;
  answer.body = std::move(body.data);
  return answer;
}

Result<std::string> fetch_url(const std::string& url, FetchLimits limits) {
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
