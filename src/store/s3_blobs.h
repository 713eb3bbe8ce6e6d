// Checkpoint payloads in an S3-compatible bucket (AWS S3, MinIO, s3rver), selected by
// ESP_MODELS_BUCKET. Requests are signed with libcurl's built-in AWS SigV4; 5xx answers
// and network errors are retried with backoff. A payload is written before the record
// that points to it, so no partial checkpoint is ever visible.
#pragma once

#include <chrono>
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
};

class S3Blobs final : public Blobs {
 public:
  explicit S3Blobs(S3Options options) : options_(std::move(options)) {}
  Result<bool> put(const std::string& key, std::string_view bytes) override;
  Result<std::string> get(const std::string& key) override;
  Result<bool> remove(const std::string& key) override;
  // Keys under `prefix`, in S3's order (every page of ListObjectsV2).
  Result<std::vector<std::string>> list(const std::string& prefix);
  // The URL of `key` (empty: the bucket itself), for both addressing styles.
  std::string url_of(const std::string& key) const;

 private:
  Result<HttpAnswer> send(const std::string& method, const std::string& url, std::string_view body);
  S3Options options_;
};

}  // namespace esp::store
