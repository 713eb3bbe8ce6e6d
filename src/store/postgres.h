// The PostgreSQL store, selected by ESP_DATABASE_URL: the same records and behaviour as
// the embedded SQLite store, for several replicas sharing one database. Migrations run
// at start under an advisory lock, so replicas starting together are safe; jobs are
// claimed with FOR UPDATE SKIP LOCKED; connections come from a pool and are reopened
// after the database restarts.
#pragma once

#include <filesystem>
#include <string>

#include "store/embedded.h"

namespace esp::store {

struct PostgresOptions {
  std::string url;  // postgresql://user:password@host:port/database
  int pool_size = 8;
  std::filesystem::path blobs_dir;  // checkpoint payloads (until S3 is configured)
};

Result<Store> open_postgres(const PostgresOptions& options);

}  // namespace esp::store
