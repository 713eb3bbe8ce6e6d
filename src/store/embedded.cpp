#include "store/embedded.h"

#include <array>
#include <string_view>

#include "store/sqlite.h"
#include "store/sqlite_population.h"

namespace esp::store {
namespace {

const std::array<std::string_view, 6> kMigrations = {
    R"sql(
CREATE TABLE users (
  email TEXT PRIMARY KEY,
  password_hash TEXT NOT NULL,
  scopes TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);
CREATE TABLE clients (
  client_id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  scopes TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
))sql",           kPopulationSchema, kPopulationListings, kJobResultGeneration,
    kCheckpointStats, kJobErrorCode,
};

class SqliteUsers final : public Users {
 public:
  explicit SqliteUsers(std::shared_ptr<Database> db) : db_(std::move(db)) {}

  Result<bool> add(const User& user) override {
    auto insert = db_->prepare(
        "INSERT INTO users (email, password_hash, scopes, disabled, created_at) VALUES (?, ?, ?, "
        "?, ?)");
    if (!insert.ok()) return insert.error();
    insert->bind(1, user.email).bind(2, user.password_hash).bind(3, user.scopes);
    insert->bind(4, std::int64_t{user.disabled}).bind(5, user.created_at);
    auto done = insert->step();
    if (!done.ok() && done.error().code == Code::kAlreadyExists) {
      return Error{Code::kAlreadyExists, "a user with email " + user.email + " already exists"};
    }
    return done.ok() ? Result<bool>(true) : done;
  }

  Result<std::optional<User>> find(const std::string& email) override {
    auto select = db_->prepare(
        "SELECT email, password_hash, scopes, disabled, created_at FROM users WHERE email = ?");
    if (!select.ok()) return select.error();
    select->bind(1, email);
    auto row = select->step();
    if (!row.ok()) return row.error();
    if (!*row) return std::optional<User>();
    return std::optional<User>(read(*select));
  }

  Result<std::vector<User>> list() override {
    auto select = db_->prepare(
        "SELECT email, password_hash, scopes, disabled, created_at FROM users ORDER BY email");
    if (!select.ok()) return select.error();
    std::vector<User> users;
    for (;;) {
      auto row = select->step();
      if (!row.ok()) return row.error();
      if (!*row) return users;
      users.push_back(read(*select));
    }
  }

  Result<bool> disable(const std::string& email) override {
    auto update = db_->prepare("UPDATE users SET disabled = 1 WHERE email = ? RETURNING email");
    if (!update.ok()) return update.error();
    update->bind(1, email);
    auto row = update->step();
    if (!row.ok()) return row.error();
    if (!*row) return Error{Code::kNotFound, "no user with email " + email};
    return true;
  }

 private:
  static User read(const Statement& row) {
    return {.email = row.text(0),
            .password_hash = row.text(1),
            .scopes = row.text(2),
            .disabled = row.integer(3) != 0,
            .created_at = row.integer(4)};
  }
  std::shared_ptr<Database> db_;
};

class SqliteClients final : public Clients {
 public:
  explicit SqliteClients(std::shared_ptr<Database> db) : db_(std::move(db)) {}

  Result<bool> add(const Client& client) override {
    auto insert = db_->prepare(
        "INSERT INTO clients (client_id, name, secret_hash, scopes, disabled, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)");
    if (!insert.ok()) return insert.error();
    insert->bind(1, client.client_id).bind(2, client.name).bind(3, client.secret_hash);
    insert->bind(4, client.scopes)
        .bind(5, std::int64_t{client.disabled})
        .bind(6, client.created_at);
    auto done = insert->step();
    return done.ok() ? Result<bool>(true) : done;
  }

  Result<std::optional<Client>> find(const std::string& client_id) override {
    auto select = db_->prepare(
        "SELECT client_id, name, secret_hash, scopes, disabled, created_at FROM clients "
        "WHERE client_id = ?");
    if (!select.ok()) return select.error();
    select->bind(1, client_id);
    auto row = select->step();
    if (!row.ok()) return row.error();
    if (!*row) return std::optional<Client>();
    return std::optional<Client>(Client{.client_id = select->text(0),
                                        .name = select->text(1),
                                        .secret_hash = select->text(2),
                                        .scopes = select->text(3),
                                        .disabled = select->integer(4) != 0,
                                        .created_at = select->integer(5)});
  }

 private:
  std::shared_ptr<Database> db_;
};

}  // namespace

Result<Store> open_embedded(const std::filesystem::path& data_dir) {
  auto db = Database::open(data_dir / "esp.db", kMigrations);
  if (!db.ok()) return db.error();
  return Store{.users = std::make_unique<SqliteUsers>(*db),
               .clients = std::make_unique<SqliteClients>(*db),
               .experiments = sqlite_experiments(*db),
               .checkpoints = sqlite_checkpoints(*db),
               .jobs = sqlite_jobs(*db),
               .blobs = std::make_unique<FileBlobs>(data_dir / "blobs")};
}

}  // namespace esp::store
