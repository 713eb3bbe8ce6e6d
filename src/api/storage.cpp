#include "api/storage.h"

#include "store/postgres.h"

namespace esp::api {

Result<store::Store> open_store(const config::Config& config) {
  if (!config.models_bucket.empty()) {
    return Error{Code::kFailedPrecondition,
                 "S3 checkpoint storage (ESP_MODELS_BUCKET) is not built into this version yet"};
  }
  if (config.database_url.empty()) return store::open_embedded(config.data_dir);
  return store::open_postgres({.url = config.database_url,
                               .pool_size = static_cast<int>(config.database_pool),
                               .blobs_dir = config.data_dir / "blobs"});
}

}  // namespace esp::api
