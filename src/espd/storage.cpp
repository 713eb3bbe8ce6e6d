#include "espd/storage.h"

namespace esp::espd {

store::StoreOptions store_options(const config::Config& config) {
  return {.data_dir = config.data_dir,
          .database_url = config.database_url,
          .database_pool = static_cast<int>(config.database_pool),
          .s3 = {.bucket = config.models_bucket,
                 .endpoint = config.s3_endpoint,
                 .region = config.aws_region.empty() ? "us-east-1" : config.aws_region,
                 .access_key_id = config.aws_access_key_id.reveal(),
                 .secret_access_key = config.aws_secret_access_key.reveal()}};
}

Result<store::Store> open_store(const config::Config& config) {
  return store::open(store_options(config));
}

}  // namespace esp::espd
