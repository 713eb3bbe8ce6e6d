#include "store/s3_blobs.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstring>
#include <functional>
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

// The `bytes` from byte `from`, as a Range header asks for them and Content-Range answers.
std::string range_asked(std::size_t from, std::size_t bytes) {
  return "bytes=" + std::to_string(from) + "-" + std::to_string(from + bytes - 1);
}
std::string range_answered(std::size_t from, std::size_t bytes, std::size_t total) {
  return "bytes " + std::to_string(from) + "-" + std::to_string(from + bytes - 1) + "/" +
         std::to_string(total);
}

// The object's size from a Content-Range "bytes FIRST-LAST/TOTAL" that answered a range
// from byte 0 with `received` bytes.
std::optional<std::size_t> total_of(std::string_view content_range, std::size_t received) {
  constexpr std::string_view kUnit = "bytes 0-";
  if (!content_range.starts_with(kUnit) || received == 0) return std::nullopt;
  const char* end = content_range.data() + content_range.size();
  std::size_t last = 0;
  std::size_t total = 0;
  auto [slash, last_read] = std::from_chars(content_range.data() + kUnit.size(), end, last);
  if (last_read != std::errc{} || slash == end || *slash != '/') return std::nullopt;
  auto [after, total_read] = std::from_chars(slash + 1, end, total);
  if (total_read != std::errc{} || after != end || last + 1 != received || total < received)
    return std::nullopt;
  return total;
}

// Parts 0..count-1 of one blob, `at_once` at a time, each by `one(part)`, which yields
// what the part gave (its ETag, on upload). `done(part, yield)`, if given, hears of each,
// under one lock, while none has failed. No part starts after a failure, a late success never
// overwrites it, and the first failure is returned.
std::optional<Error> each_part(std::size_t count, int at_once,
                               const std::function<Result<std::string>(std::size_t)>& one,
                               const std::function<void(std::size_t, std::string)>& done = {}) {
  std::mutex mutex;  // guards failure and, through `done`, its caller's state
  std::optional<Error> failure;
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t part = next++; part < count; part = next++) {
      {
        std::lock_guard lock(mutex);
        if (failure) return;  // the blob is lost: no more parts for it
      }
      auto yield = one(part);
      std::lock_guard lock(mutex);
      if (failure) return;
      if (!yield.ok()) {
        failure = yield.error();
        return;
      }
      if (done) done(part, std::move(*yield));
    }
  };
  const auto workers = std::min<std::size_t>(std::max(at_once, 1), count);
  {
    std::vector<std::jthread> helpers;
    for (std::size_t helper = 1; helper < workers; ++helper)
      helpers.emplace_back(work);
    work();
  }
  return failure;
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
                                 std::string_view body,
                                 std::vector<std::pair<std::string, std::string>> headers,
                                 std::span<char> answer_into) {
  // S3 signs the payload's hash; libcurl puts x-amz-* headers into the SigV4 signature.
  headers.emplace_back("x-amz-content-sha256", sha256_hex(body));
  const HttpCall call{.method = method,
                      .url = url,
                      .headers = std::move(headers),
                      .body = body,
                      .aws_sigv4 = "aws:amz:" + options_.region + ":s3",
                      .credentials = options_.access_key_id + ":" + options_.secret_access_key,
                      .answer_into = answer_into};
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
  std::size_t front = 0;  // the parts stored from the first on, with no gap
  auto failure = each_part(
      parts, options_.parts_at_once,
      [&](std::size_t part) -> Result<std::string> {
        auto answer = send(
            "PUT",
            url_of(key) + "?partNumber=" + std::to_string(part + 1) + "&" + upload_query(upload),
            bytes.substr(part * part_bytes, part_bytes));
        if (!answer.ok()) return answer.error();
        if (answer->status != 200 || answer->etag.empty())
          return Error{Code::kUnavailable, "PUT part " + std::to_string(part + 1) + " of " + key +
                                               ": " + s3_error(answer->status, answer->body)};
        return std::move(answer->etag);
      },
      [&](std::size_t part, std::string etag) {  // `written` is told in order
        etags[part] = std::move(etag);
        const std::size_t before = front;
        while (front < parts && !etags[front].empty())
          ++front;
        if (written && front > before) written(std::min(front * part_bytes, bytes.size()));
      });
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
  // The first part, asked for as a range: a blob of one part comes whole in this request.
  auto first = send("GET", url_of(key), "", {{"Range", range_asked(0, options_.part_bytes)}});
  if (!first.ok()) return first.error();
  if (first->status == 404) return Error{Code::kNotFound, "no blob " + key};
  if (first->status == 200) return std::move(first->body);  // a server that ignores ranges
  if (first->status == 416) return std::string();           // only an empty object has no byte 0
  if (first->status != 206)
    return Error{Code::kUnavailable, "GET " + key + ": " + s3_error(first->status, first->body)};
  const auto total = total_of(first->content_range, first->body.size());
  if (!total)
    return Error{Code::kUnavailable, "GET " + key + ": the first range was answered with " +
                                         std::to_string(first->body.size()) +
                                         " bytes, Content-Range '" + first->content_range + "'"};
  if (*total == first->body.size()) return std::move(first->body);
  return get_rest(key, *first, *total);
}

Result<std::string> S3Blobs::get_rest(const std::string& key, const HttpAnswer& first,
                                      std::size_t total) {
  std::string whole(total, '\0');
  std::memcpy(whole.data(), first.body.data(), first.body.size());
  const std::size_t part_bytes = first.body.size();
  const std::size_t rest = (total - 1) / part_bytes;  // the parts after the first
  std::vector<std::pair<std::string, std::string>> same_object;
  if (!first.etag.empty()) same_object.emplace_back("If-Match", first.etag);
  auto failure =
      each_part(rest, options_.parts_at_once, [&](std::size_t index) -> Result<std::string> {
        const std::size_t from = (index + 1) * part_bytes;
        const std::size_t bytes = std::min(part_bytes, total - from);
        auto headers = same_object;
        headers.emplace_back("Range", range_asked(from, bytes));
        auto answer =
            send("GET", url_of(key), "", std::move(headers), std::span(whole).subspan(from, bytes));
        const std::string range = "the range from byte " + std::to_string(from);
        if (!answer.ok())
          return Error{answer.error().code, answer.error().message + " (" + range + ")"};
        const std::string what = "GET " + key + ", " + range + ": ";
        if (answer->status != 206)
          return Error{Code::kUnavailable, what + s3_error(answer->status, answer->body)};
        // A checkpoint is never written twice; an object that changed is not one to piece
        // together (S3 itself refuses, 412, on the If-Match).
        if (answer->etag != first.etag)
          return Error{Code::kUnavailable, what + "the object changed while it was read"};
        if (answer->written_into != bytes ||
            answer->content_range != range_answered(from, bytes, total))
          return Error{Code::kUnavailable,
                       what + "answered " + std::to_string(answer->written_into) +
                           " bytes, Content-Range '" + answer->content_range + "'"};
        return std::string();
      });
  if (failure) return *failure;
  return whole;
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
