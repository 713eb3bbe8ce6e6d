// The embedded store: one SQLite file under the data folder.
#pragma once

#include <filesystem>
#include <memory>

#include "store/identities.h"

namespace esp::store {

struct Store {
  std::unique_ptr<Users> users;
  std::unique_ptr<Clients> clients;
};

// Opens (creating and migrating) `<data_dir>/esp.db`.
Result<Store> open_embedded(const std::filesystem::path& data_dir);

}  // namespace esp::store
