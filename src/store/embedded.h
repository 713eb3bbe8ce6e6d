// The embedded store: one SQLite file under the data folder.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>

#include "store/blobs.h"
#include "store/identities.h"
#include "store/population.h"

namespace esp::store {

// Job changes made by other processes sharing the store (PostgreSQL LISTEN/NOTIFY), so
// idle workers and waiting calls wake at once instead of at their next poll.
class JobNotifications {
 public:
  // kListening: (re)connected; anything may have changed while it was not listening.
  enum class Event { kQueued, kEnded, kListening };
  virtual ~JobNotifications() = default;
  // Calls `on_event` from a background thread until stop(); reconnects on its own.
  virtual void listen(std::function<void(Event)> on_event) = 0;
  virtual void stop() = 0;
};

struct Store {
  std::unique_ptr<Users> users;
  std::unique_ptr<Clients> clients;
  std::unique_ptr<Experiments> experiments;
  std::unique_ptr<Checkpoints> checkpoints;
  std::unique_ptr<Jobs> jobs;
  std::unique_ptr<Blobs> blobs;
  std::unique_ptr<JobNotifications> notifications;  // null when one process owns the store
};

// Opens (creating and migrating) `<data_dir>/esp.db`; blobs live in `<data_dir>/blobs`.
Result<Store> open_embedded(const std::filesystem::path& data_dir);

}  // namespace esp::store
