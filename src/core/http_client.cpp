#include "core/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>

namespace esp {
namespace {

using Handle = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;

// Idle handles, each with its connection cache; a handle serves one call at a time.
class HandlePool {
 public:
  HandlePool() { curl_global_init(CURL_GLOBAL_DEFAULT); }  // once, before any handle

  Handle borrow() {
    {
      std::lock_guard lock(mutex_);
      if (!idle_.empty()) {
        Handle handle = std::move(idle_.back());
        idle_.pop_back();
        curl_easy_reset(handle.get());  // keeps its open connections
        return handle;
      }
    }
    return Handle(curl_easy_init(), curl_easy_cleanup);
  }
  void give_back(Handle handle) {
    constexpr std::size_t kMostIdle = 16;
    std::lock_guard lock(mutex_);
    if (idle_.size() < kMostIdle) idle_.push_back(std::move(handle));
  }

 private:
  std::mutex mutex_;
  std::vector<Handle> idle_;
};

HandlePool& handles() {
  static HandlePool pool;
  return pool;
}

struct Body {
  CURL* handle;
  std::string data;
  std::size_t max_bytes;
  std::span<char> into;
  std::size_t written_into = 0;
};

bool successful(CURL* handle) {
  long status = 0;
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
  return status >= 200 && status < 300;
}

std::size_t append(char* chunk, std::size_t size, std::size_t count, void* user) {
  auto* body = static_cast<Body*>(user);
  const std::size_t bytes = size * count;
  if (!body->into.empty() && successful(body->handle)) {
    if (bytes > body->into.size() - body->written_into) return 0;  // aborts the transfer
    std::memcpy(body->into.data() + body->written_into, chunk, bytes);
    body->written_into += bytes;
    return bytes;
  }
  if (body->data.size() + bytes > body->max_bytes) return 0;  // aborts the transfer
  // No exception may cross libcurl's C frames: memory that cannot be had aborts the
  // transfer, which then fails as any other.
  try {
    if (body->data.empty()) {
      // Held once at its announced length: grown by doubling, a 490 MB checkpoint read
      // from S3 would pass through buffers of twice that, each copied into the next.
      curl_off_t announced = -1;
      curl_easy_getinfo(body->handle, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &announced);
      if (announced > 0)
        body->data.reserve(std::min(static_cast<std::size_t>(announced), body->max_bytes));
    }
    body->data.append(chunk, bytes);
  } catch (const std::exception&) {
    return 0;
  }
  return bytes;
}

// The answer's header `name` as sent, empty when absent.
std::string header(CURL* handle, const char* name) {
  curl_header* found = nullptr;
  if (curl_easy_header(handle, name, 0, CURLH_HEADER, -1, &found) != CURLHE_OK) return {};
  return found->value;
}

}  // namespace

Result<HttpAnswer> http_call(const HttpCall& call, HttpLimits limits) {
  Handle curl = handles().borrow();
  if (!curl) return Error{Code::kInternal, "libcurl could not start"};
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(nullptr, curl_slist_free_all);
  for (const auto& [name, value] : call.headers)
    headers.reset(curl_slist_append(headers.release(), (name + ": " + value).c_str()));
  CURL* handle = curl.get();
  Body body{.handle = handle, .data = {}, .max_bytes = limits.max_bytes, .into = call.answer_into};
  curl_easy_setopt(handle, CURLOPT_URL, call.url.c_str());
  curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, call.method.c_str());
  if (call.method == "POST" || call.method == "PUT" || !call.body.empty()) {
    curl_easy_setopt(handle, CURLOPT_POSTFIELDS, call.body.data());
    curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(call.body.size()));
  }
  if (!call.aws_sigv4.empty()) curl_easy_setopt(handle, CURLOPT_AWS_SIGV4, call.aws_sigv4.c_str());
  if (!call.credentials.empty())
    curl_easy_setopt(handle, CURLOPT_USERPWD, call.credentials.c_str());
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(limits.timeout.count()));
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, append);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &body);
  const CURLcode code = curl_easy_perform(handle);
  if (code != CURLE_OK) {
    // The handle is dropped with whatever state its connection was left in.
    return Error{Code::kUnavailable, call.url + ": " + curl_easy_strerror(code)};
  }
  HttpAnswer answer;
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &answer.status);
  char* type = nullptr;
  curl_easy_getinfo(handle, CURLINFO_CONTENT_TYPE, &type);
  if (type != nullptr) answer.content_type = type;
  answer.cache_control = header(handle, "Cache-Control");
  answer.etag = header(handle, "ETag");
  answer.content_range = header(handle, "Content-Range");
  answer.written_into = body.written_into;
  answer.body = std::move(body.data);
  handles().give_back(std::move(curl));
  return answer;
}

}  // namespace esp
