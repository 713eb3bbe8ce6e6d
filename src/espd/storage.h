// The store the configuration names (ESP_DATABASE_URL, ESP_MODELS_BUCKET, ...), as
// store::open takes it.
#pragma once

#include "config/config.h"
#include "core/error.h"
#include "store/store.h"

namespace esp::espd {

store::StoreOptions store_options(const config::Config& config);
Result<store::Store> open_store(const config::Config& config);

}  // namespace esp::espd
