// The embedded store: one SQLite file under the data folder.
#pragma once

#include <filesystem>
#include <memory>

#include "store/blobs.h"
#include "store/identities.h"
#include "store/population.h"

namespace esp::store {

struct Store {
  std::unique_ptr<Users> users;
  std::unique_ptr<Clients> clients;
  std::unique_ptr<Experiments> experiments;
  std::unique_ptr<Checkpoints> checkpoints;
  std::unique_ptr<Jobs> jobs;
  std::unique_ptr<Blobs> blobs;
};

// Opens (creating and migrating) `<data_dir>/esp.db`; blobs live in `<data_dir>/blobs`.
Result<Store> open_embedded(const std::filesystem::path& data_dir);

}  // namespace esp::store
