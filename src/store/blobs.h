// Checkpoint payloads and job inputs: named byte strings on the file system or in S3
// (s3_blobs.h).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "core/error.h"
#include "core/files.h"

namespace esp::store {

// A blob's bytes where they lie, alive while `owner` is: a file's mapping, or a string.
struct BlobView {
  std::shared_ptr<const void> owner;
  std::string_view bytes;
};

class Blobs {
 public:
  virtual ~Blobs() = default;
  // Replaces `key` atomically: readers see the old bytes or the new, never a mix.
  virtual Result<bool> put(const std::string& key, std::string_view bytes) = 0;
  // As put, telling `written` how many leading bytes are written for good as it goes, if
  // this store writes in pieces: a caller may give their memory back before it ends.
  virtual Result<bool> put_in_pieces(const std::string& key, std::string_view bytes,
                                     const WrittenSoFar& /*written*/) {
    return put(key, bytes);
  }
  virtual Result<std::string> get(const std::string& key) = 0;
  // As get, without a copy where the store can: a file is mapped rather than read. A
  // checkpoint read to be answered or parsed is 490 MB at P=100,000.
  virtual Result<BlobView> view(const std::string& key) {
    auto bytes = get(key);
    if (!bytes.ok()) return bytes.error();
    auto owner = std::make_shared<const std::string>(std::move(*bytes));
    return BlobView{owner, *owner};
  }
  // Deleting a missing key is not an error: deletes are retried after crashes.
  virtual Result<bool> remove(const std::string& key) = 0;
};

// Files under a root folder, written to a temporary file, fsynced, then renamed.
class FileBlobs final : public Blobs {
 public:
  explicit FileBlobs(std::filesystem::path root) : root_(std::move(root)) {}
  Result<bool> put(const std::string& key, std::string_view bytes) override;
  Result<bool> put_in_pieces(const std::string& key, std::string_view bytes,
                             const WrittenSoFar& written) override;
  Result<std::string> get(const std::string& key) override;
  // Safe to hold while the blob is replaced or removed: a put renames a new file over
  // it and a remove unlinks it, and neither touches the file mapped. Only a file cut short
  // in place by another process, which could as well rewrite the database, would fault.
  Result<BlobView> view(const std::string& key) override;
  Result<bool> remove(const std::string& key) override;

 private:
  Result<std::filesystem::path> path_of(const std::string& key) const;
  std::filesystem::path root_;
};

}  // namespace esp::store
