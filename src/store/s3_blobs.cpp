#include "store/s3_blobs.h"

#include <curl/curl.h>

#include <memory>
#include <regex>
#include <thread>

#include "core/digest.h"
#include "core/percent_encode.h"

namespace esp::store {
namespace {

// curl_global_init is not thread-safe; run it once before the first handle.
void init_curl_once() {
  static const bool initialised = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  (void)initialised;
}

std::size_t append(char* chunk, std::size_t size, std::size_t count, void* user) {
  static_cast<std::string*>(user)->append(chunk, size * count);
  return size * count;
}

std::string s3_error(long status, const std::string& body) {
  std::smatch code;
  if (std::regex_search(body, code, std::regex("<Code>([^<]+)</Code>")))
    return "S3 answered " + std::to_string(status) + " " + code[1].str();
  return "S3 answered " + std::to_string(status);
}

}  // namespace

struct S3Blobs::Handle {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl{curl_easy_init(), curl_easy_cleanup};
};

S3Blobs::S3Blobs(S3Options options) : options_(std::move(options)) {}
S3Blobs::~S3Blobs() = default;

std::unique_ptr<S3Blobs::Handle> S3Blobs::borrow_handle() {
  {
    std::lock_guard lock(idle_mutex_);
    if (!idle_.empty()) {
      auto handle = std::move(idle_.back());
      idle_.pop_back();
      curl_easy_reset(handle->curl.get());  // keeps its open connections
      return handle;
    }
  }
  init_curl_once();
  return std::make_unique<Handle>();
}

void S3Blobs::return_handle(std::unique_ptr<Handle> handle) {
  constexpr std::size_t kMostIdle = 16;
  std::lock_guard lock(idle_mutex_);
  if (idle_.size() < kMostIdle) idle_.push_back(std::move(handle));
}

std::string S3Blobs::url_of(const std::string& key) const {
  std::string base = options_.endpoint;
  while (!base.empty() && base.back() == '/')
    base.pop_back();
  std::string url;
  if (options_.path_style) {
    url = base + "/" + options_.bucket;
  } else {
    const auto scheme_end = base.find("://");
    url = base.substr(0, scheme_end + 3) + options_.bucket + "." + base.substr(scheme_end + 3);
  }
  return key.empty() ? url : url + "/" + percent_encode(key, true);
}

Result<S3Blobs::Answer> S3Blobs::send(const std::string& method, const std::string& url,
                                      std::string_view body) {
  auto backoff = options_.first_backoff;
  std::string last_failure;
  for (int attempt = 1; attempt <= options_.attempts; ++attempt) {
    auto borrowed = borrow_handle();
    if (!borrowed->curl) return Error{Code::kInternal, "libcurl could not start"};
    CURL* handle = borrowed->curl.get();
    // S3 signs the payload's hash; curl puts x-amz-* headers into the SigV4 signature.
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(
        curl_slist_append(nullptr, ("x-amz-content-sha256: " + sha256_hex(body)).c_str()),
        curl_slist_free_all);
    const std::string sigv4 = "aws:amz:" + options_.region + ":s3";
    const std::string credentials = options_.access_key_id + ":" + options_.secret_access_key;
    Answer answer;
    curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
    curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(handle, CURLOPT_AWS_SIGV4, sigv4.c_str());
    curl_easy_setopt(handle, CURLOPT_USERPWD, credentials.c_str());
    curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers.get());
    if (method == "PUT") {
      curl_easy_setopt(handle, CURLOPT_POSTFIELDS, body.data());
      curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    }
    if (method == "HEAD") curl_easy_setopt(handle, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
    curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, append);
    curl_easy_setopt(handle, CURLOPT_WRITEDATA, &answer.body);
    const CURLcode code = curl_easy_perform(handle);
    if (code == CURLE_OK) {
      curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &answer.status);
      return_handle(std::move(borrowed));
      if (answer.status < 500) return answer;
      last_failure = s3_error(answer.status, answer.body);
    } else {
      last_failure = std::string(curl_easy_strerror(code));
    }
    if (attempt < options_.attempts) {
      std::this_thread::sleep_for(backoff);  // backoff between retries, not synchronisation
      backoff *= 2;
    }
  }
  return Error{Code::kUnavailable, method + " " + url + ": " + last_failure};
}

Result<bool> S3Blobs::put(const std::string& key, std::string_view bytes) {
  auto answer = send("PUT", url_of(key), bytes);
  if (!answer.ok()) return answer.error();
  if (answer->status != 200)
    return Error{Code::kUnavailable, "PUT " + key + ": " + s3_error(answer->status, answer->body)};
  return true;
}

Result<std::string> S3Blobs::get(const std::string& key) {
  auto answer = send("GET", url_of(key), "");
  if (!answer.ok()) return answer.error();
  if (answer->status == 404) return Error{Code::kNotFound, "no blob " + key};
  if (answer->status != 200)
    return Error{Code::kUnavailable, "GET " + key + ": " + s3_error(answer->status, answer->body)};
  return std::move(answer->body);
}

Result<bool> S3Blobs::remove(const std::string& key) {
  auto answer = send("DELETE", url_of(key), "");
  if (!answer.ok()) return answer.error();
  if (answer->status != 204 && answer->status != 200 && answer->status != 404)
    return Error{Code::kUnavailable,
                 "DELETE " + key + ": " + s3_error(answer->status, answer->body)};
  return true;
}

Result<std::vector<std::string>> S3Blobs::list(const std::string& prefix) {
  std::vector<std::string> keys;
  std::string token;
  for (;;) {
    // In sorted order: libcurl 7.88 signs the query string as written, and S3 signs it
    // sorted by name.
    std::string url = url_of("") + "?";
    if (!token.empty()) url += "continuation-token=" + percent_encode(token, false) + "&";
    url += "list-type=2&prefix=" + percent_encode(prefix, false);
    auto answer = send("GET", url, "");
    if (!answer.ok()) return answer.error();
    if (answer->status != 200)
      return Error{Code::kUnavailable,
                   "LIST " + prefix + ": " + s3_error(answer->status, answer->body)};
    static const std::regex kKey("<Key>([^<]*)</Key>");
    for (std::sregex_iterator it(answer->body.begin(), answer->body.end(), kKey), end; it != end;
         ++it)
      keys.push_back((*it)[1].str());
    std::smatch next;
    if (answer->body.find("<IsTruncated>true</IsTruncated>") == std::string::npos ||
        !std::regex_search(answer->body, next,
                           std::regex("<NextContinuationToken>([^<]+)</NextContinuationToken>")))
      return keys;
    token = next[1].str();
  }
}

}  // namespace esp::store
