// The store's door: the records (users, clients, experiments, checkpoints, jobs) in
// SQLite or PostgreSQL, the checkpoint payloads in files or S3, and store::open, which
// picks the backends from StoreOptions.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "core/error.h"
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

struct StoreOptions {
  std::filesystem::path data_dir;  // SQLite's esp.db and the payload files live here
  std::string database_url;        // postgresql://...: PostgreSQL instead of SQLite
  int database_pool = 8;
  struct S3 {
    std::string bucket;    // empty: payloads as files under data_dir/blobs
    std::string endpoint;  // empty: AWS, addressed virtual-host style; others by path
    std::string region = "us-east-1";
    std::string access_key_id;
    std::string secret_access_key;
  } s3;
};

// Opens (creating and migrating) the records, and the payload store beside them.
Result<Store> open(const StoreOptions& options);

}  // namespace esp::store
