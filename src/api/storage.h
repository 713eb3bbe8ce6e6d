// The store the configuration names: PostgreSQL when ESP_DATABASE_URL is set, the
// embedded SQLite under the data folder otherwise; checkpoint payloads are files under
// the data folder either way (S3 is not in this version).
#pragma once

#include "config/config.h"
#include "core/error.h"
#include "store/embedded.h"

namespace esp::api {

Result<store::Store> open_store(const config::Config& config);

}  // namespace esp::api
