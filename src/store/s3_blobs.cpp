#include "store/s3_blobs.h"

#include <algorithm>
#include <atomic>
#include <limits>
#include <mutex>
#include <optional>
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

std::string upload_query(const std::string& upload) {
  return "uploadId=" + percent_encode(upload, false);
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

Result<bool> S3Blobs::put_in_pieces(const std::string& key, std::string_view bytes,
                                    const WrittenSoFar& written) {
  if (bytes.size() <= options_.part_bytes) {
    auto put = this->put(key, bytes);
    if (put.ok() && written) written(bytes.size());
    return put;
  }
  auto upload = start_upload(key);
  if (!upload.ok()) return upload.error();
  auto etags = put_parts(key, *upload, bytes, written);
  if (!etags.ok()) return abort_upload(key, *upload, etags.error());
  auto completed = complete_upload(key, *upload, *etags);
  if (!completed.ok()) return abort_upload(key, *upload, completed.error());
  return true;
}

Result<std::string> S3Blobs::start_upload(const std::string& key) {
  auto answer = send("POST", url_of(key) + "?uploads=", "");
  if (!answer.ok()) return answer.error();
  std::smatch upload;
  if (answer->status != 200 ||
      !std::regex_search(answer->body, upload, std::regex("<UploadId>([^<]+)</UploadId>")))
    return Error{Code::kUnavailable,
                 "starting an upload of " + key + ": " + s3_error(answer->status, answer->body)};
  return upload[1].str();
}

Result<std::vector<std::string>> S3Blobs::put_parts(const std::string& key,
                                                    const std::string& upload,
                                                    std::string_view bytes,
                                                    const WrittenSoFar& written) {
  const std::size_t part_bytes = options_.part_bytes;
  const std::size_t parts = (bytes.size() + part_bytes - 1) / part_bytes;
  std::vector<std::string> etags(parts);
  std::mutex mutex;       // guards etags, front and failure; `written` is told under it, in order
  std::size_t front = 0;  // the parts stored from the first on, with no gap
  std::optional<Error> failure;
  std::atomic<std::size_t> next{0};
  auto send_parts = [&] {
    for (std::size_t part = next++; part < parts; part = next++) {
      {
        std::lock_guard lock(mutex);
        if (failure) return;  // the upload is lost: no more parts for it
      }
      auto answer =
          send("PUT",
               url_of(key) + "?partNumber=" + std::to_string(part + 1) + "&" + upload_query(upload),
               bytes.substr(part * part_bytes, part_bytes));
      std::lock_guard lock(mutex);
      if (failure) return;
      if (!answer.ok() || answer->status != 200 || answer->etag.empty()) {
        failure = answer.ok() ? Error{Code::kUnavailable,
                                      "PUT part " + std::to_string(part + 1) + " of " + key + ": " +
                                          s3_error(answer->status, answer->body)}
                              : answer.error();
        return;
      }
      etags[part] = answer->etag;
      const std::size_t before = front;
      while (front < parts && !etags[front].empty())
        ++front;
      if (written && front > before) written(std::min(front * part_bytes, bytes.size()));
    }
  };
  {
    const auto at_once = std::min<std::size_t>(std::max(options_.parts_at_once, 1), parts);
    std::vector<std::jthread> helpers;
    for (std::size_t helper = 1; helper < at_once; ++helper)
      helpers.emplace_back(send_parts);
    send_parts();
  }
  if (failure) return *failure;
  return etags;
}

Result<bool> S3Blobs::complete_upload(const std::string& key, const std::string& upload,
                                      const std::vector<std::string>& etags) {
  std::string parts = "<CompleteMultipartUpload>";
  for (std::size_t part = 0; part < etags.size(); ++part)
    parts += "<Part><PartNumber>" + std::to_string(part + 1) + "</PartNumber><ETag>" + etags[part] +
             "</ETag></Part>";
  parts += "</CompleteMultipartUpload>";
  auto answer = send("POST", url_of(key) + "?" + upload_query(upload), parts);
  if (!answer.ok()) return answer.error();
  // S3 may answer 200 at once and an error later, in the body, while it joins the parts.
  if (answer->status != 200 || answer->body.find("<Error>") != std::string::npos)
    return Error{Code::kUnavailable,
                 "completing the upload of " + key + ": " + s3_error(answer->status, answer->body)};
  return true;
}

Error S3Blobs::abort_upload(const std::string& key, const std::string& upload, Error failure) {
  auto answer = send("DELETE", url_of(key) + "?" + upload_query(upload), "");
  std::string not_removed;
  if (!answer.ok())
    not_removed = answer.error().message;
  else if (answer->status != 204 && answer->status != 404)
    not_removed = s3_error(answer->status, answer->body);
  if (!not_removed.empty())
    failure.message +=
        "; the parts sent stay until the bucket's lifecycle rule removes them: " + not_removed;
  return failure;
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
