#include "store/s3_blobs.h"

#include <limits>
#include <regex>
#include <thread>

#include "core/digest.h"
#include "core/percent_encode.h"

namespace esp::store {
namespace {

std::string s3_error(long status, const std::string& body) {
  std::smatch code;
  if (std::regex_search(body, code, std::regex("<Code>([^<]+)</Code>")))
    return "S3 answered " + std::to_string(status) + " " + code[1].str();
  return "S3 answered " + std::to_string(status);
}

}  // namespace

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

Result<HttpAnswer> S3Blobs::send(const std::string& method, const std::string& url,
                                 std::string_view body) {
  // S3 signs the payload's hash; libcurl puts x-amz-* headers into the SigV4 signature.
  const HttpCall call{.method = method,
                      .url = url,
                      .headers = {{"x-amz-content-sha256", sha256_hex(body)}},
                      .body = body,
                      .aws_sigv4 = "aws:amz:" + options_.region + ":s3",
                      .credentials = options_.access_key_id + ":" + options_.secret_access_key};
  const HttpLimits limits{.timeout = options_.timeout,
                          .max_bytes = std::numeric_limits<std::size_t>::max()};
  auto backoff = options_.first_backoff;
  std::string last_failure;
  for (int attempt = 1; attempt <= options_.attempts; ++attempt) {
    auto answer = http_call(call, limits);
    if (answer.ok() && answer->status < 500) return answer;
    last_failure =
        answer.ok() ? url + ": " + s3_error(answer->status, answer->body) : answer.error().message;
    if (attempt < options_.attempts) {
      std::this_thread::sleep_for(backoff);  // backoff between retries, not synchronisation
      backoff *= 2;
    }
  }
  return Error{Code::kUnavailable, method + " " + last_failure};
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
