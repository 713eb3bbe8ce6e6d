// Checkpoint payloads in an S3-compatible bucket (AWS S3, MinIO, s3rver), selected by
// ESP_MODELS_BUCKET. Requests are signed with libcurl's built-in AWS SigV4; 5xx answers
// and network errors are retried with backoff. A payload is written before the record
// that points to it, so no partial checkpoint is ever visible. A payload larger than one
// part goes up as a multipart upload, which S3 shows only once it is complete.
#pragma once

#include <chrono>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/http_client.h"
#include "store/blobs.h"

namespace esp::store {

struct S3Options {
  std::string endpoint;  // e.g. https://s3.eu-west-1.amazonaws.com or http://127.0.0.1:9000
  std::string bucket;
  std::string region = "us-east-1";
  std::string access_key_id;
  std::string secret_access_key;
  bool path_style = true;  // endpoint/bucket/key; false: bucket.endpoint-host/key
  int attempts = 4;
  std::chrono::milliseconds first_backoff{100};
  std::chrono::milliseconds timeout{60'000};
  // Parts of a multipart upload (S3 takes 5 MiB to 5 GiB each), sent this many at a time:
  // one connection's speed no longer bounds a big checkpoint's, and each leading part
  // stored lets the job give its bytes back before the rest are sent. A payload over one
  // part is read back the same way, in ranges of a part.
  std::size_t part_bytes = std::size_t{64} << 20;
  int parts_at_once = 4;
};

class S3Blobs final : public Blobs {
 public:
  explicit S3Blobs(S3Options options) : options_(std::move(options)) {}
  Result<bool> put(const std::string& key, std::string_view bytes) override;
  // Over `part_bytes`, a multipart upload: `written` hears of each leading run of parts
  // stored; an upload that fails is aborted, and nothing is stored under `key`.
  Result<bool> put_in_pieces(const std::string& key, std::string_view bytes,
                             const WrittenSoFar& written) override;
  // Over `part_bytes`, in ranges of a part, side by side, into one buffer of its size;
  // each range must come from the same object (its ETag).
  Result<std::string> get(const std::string& key) override;
  Result<bool> remove(const std::string& key) override;
  // Keys under `prefix`, in S3's order (every page of ListObjectsV2).
  Result<std::vector<std::string>> list(const std::string& prefix);
  // The URL of `key` (empty: the bucket itself), for both addressing styles.
  std::string url_of(const std::string& key) const;

 private:
  Result<HttpAnswer> send(const std::string& method, const std::string& url, std::string_view body,
                          std::vector<std::pair<std::string, std::string>> headers = {},
                          std::span<char> answer_into = {});
  Result<std::string> start_upload(const std::string& key);
  // The parts' ETags, in order.
  Result<std::vector<std::string>> put_parts(const std::string& key, const std::string& upload,
                                             std::string_view bytes, const WrittenSoFar& written);
  Result<bool> complete_upload(const std::string& key, const std::string& upload,
                               const std::vector<std::string>& etags);
  // `failure`, saying also whether the parts stored so far could be removed.
  Error abort_upload(const std::string& key, const std::string& upload, Error failure);
  // The rest of a blob whose first range is `first` (answered 206 with `total` bytes).
  Result<std::string> get_rest(const std::string& key, const HttpAnswer& first, std::size_t total);
  S3Options options_;
};

}  // namespace esp::store
