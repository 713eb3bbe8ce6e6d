// The embedded store: one SQLite file under the data folder.
#pragma once

#include <filesystem>

#include "store/store.h"

namespace esp::store {

// Opens (creating and migrating) `<data_dir>/esp.db`; blobs live in `<data_dir>/blobs`.
Result<Store> open_embedded(const std::filesystem::path& data_dir);

}  // namespace esp::store
