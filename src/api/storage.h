// The store the configuration names: records in PostgreSQL when ESP_DATABASE_URL is
// set, else in SQLite under the data folder; checkpoint payloads in the S3 bucket
// ESP_MODELS_BUCKET when set, else as files under the data folder.
#pragma once

#include "config/config.h"
#include "core/error.h"
#include "store/embedded.h"

namespace esp::api {

Result<store::Store> open_store(const config::Config& config);

}  // namespace esp::api
