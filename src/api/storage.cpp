#include "api/storage.h"

#include "store/postgres.h"
#include "store/s3_blobs.h"

namespace esp::api {

Result<store::Store> open_store(const config::Config& config) {
  auto opened = config.database_url.empty()
                    ? store::open_embedded(config.data_dir)
                    : store::open_postgres({.url = config.database_url,
                                            .pool_size = static_cast<int>(config.database_pool),
                                            .blobs_dir = config.data_dir / "blobs"});
  if (!opened.ok() || config.models_bucket.empty()) return opened;
  const std::string region = config.aws_region.empty() ? "us-east-1" : config.aws_region;
  // AWS itself is addressed virtual-host style; other S3 servers (MinIO, s3rver) by path.
  const bool custom_endpoint = !config.s3_endpoint.empty();
  opened->blobs = std::make_unique<store::S3Blobs>(store::S3Options{
      .endpoint = custom_endpoint ? config.s3_endpoint : "https://s3." + region + ".amazonaws.com",
      .bucket = config.models_bucket,
      .region = region,
      .access_key_id = config.aws_access_key_id.reveal(),
      .secret_access_key = config.aws_secret_access_key.reveal(),
      .path_style = custom_endpoint});
  return opened;
}

}  // namespace esp::api
