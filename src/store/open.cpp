#include "store/embedded.h"
#include "store/postgres.h"
#include "store/s3_blobs.h"
#include "store/store.h"

namespace esp::store {

Result<Store> open(const StoreOptions& options) {
  auto opened = options.database_url.empty()
                    ? open_embedded(options.data_dir)
                    : open_postgres({.url = options.database_url,
                                     .pool_size = options.database_pool,
                                     .blobs_dir = options.data_dir / "blobs"});
  if (!opened.ok() || options.s3.bucket.empty()) return opened;
  const auto& s3 = options.s3;
  const bool custom_endpoint = !s3.endpoint.empty();
  opened->blobs = std::make_unique<S3Blobs>(S3Options{
      .endpoint = custom_endpoint ? s3.endpoint : "https://s3." + s3.region + ".amazonaws.com",
      .bucket = s3.bucket,
      .region = s3.region,
      .access_key_id = s3.access_key_id,
      .secret_access_key = s3.secret_access_key,
      .path_style = custom_endpoint});
  return opened;
}

}  // namespace esp::store
