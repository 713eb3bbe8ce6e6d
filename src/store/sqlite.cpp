#include "store/sqlite.h"

#include <sqlite3.h>

namespace esp::store {
namespace {

Error sqlite_error(sqlite3* db, std::string_view what) {
  const int code = sqlite3_extended_errcode(db);
  const bool constraint = (code & 0xFF) == SQLITE_CONSTRAINT;
  return Error{constraint ? Code::kAlreadyExists : Code::kInternal,
               std::string(what) + ": " + sqlite3_errmsg(db)};
}

constexpr int kBusyTimeoutMs = 5000;

}  // namespace

Statement::Statement(Statement&& other) noexcept : db_(other.db_), statement_(other.statement_) {
  other.statement_ = nullptr;
}

Statement::~Statement() {
  sqlite3_finalize(statement_);
}

Statement& Statement::bind(int index, std::string_view text) {
  sqlite3_bind_text(statement_, index, text.data(), static_cast<int>(text.size()),
                    SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::bind(int index, std::int64_t number) {
  sqlite3_bind_int64(statement_, index, number);
  return *this;
}

Result<bool> Statement::step() {
  const int status = sqlite3_step(statement_);
  if (status == SQLITE_ROW) return true;
  if (status == SQLITE_DONE) return false;
  return sqlite_error(db_, "database statement failed");
}

std::string Statement::text(int column) const {
  const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(statement_, column));
  return data == nullptr
             ? std::string()
             : std::string(data,
                           static_cast<std::size_t>(sqlite3_column_bytes(statement_, column)));
}

std::int64_t Statement::integer(int column) const {
  return sqlite3_column_int64(statement_, column);
}

Result<std::shared_ptr<Database>> Database::open(const std::filesystem::path& file,
                                                 std::span<const std::string_view> migrations) {
  sqlite3* raw = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
  if (sqlite3_open_v2(file.c_str(), &raw, flags, nullptr) != SQLITE_OK) {
    Error error{Code::kUnavailable, "cannot open database " + file.string() + ": " +
                                        (raw != nullptr ? sqlite3_errmsg(raw) : "out of memory")};
    sqlite3_close(raw);
    return error;
  }
  std::shared_ptr<Database> database(new Database(raw));
  sqlite3_busy_timeout(raw, kBusyTimeoutMs);
  for (const char* pragma :
       {"PRAGMA journal_mode=WAL", "PRAGMA foreign_keys=ON", "PRAGMA synchronous=NORMAL"}) {
    if (auto done = database->execute(pragma); !done.ok()) return done.error();
  }
  if (auto migrated = database->migrate(migrations); !migrated.ok()) return migrated.error();
  return database;
}

Database::~Database() {
  sqlite3_close(db_);
}

Result<bool> Database::execute(std::string_view sql) {
  std::string text(sql);
  char* message = nullptr;
  if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    Error error{Code::kInternal, std::string("database error: ") + (message ? message : "unknown")};
    sqlite3_free(message);
    return error;
  }
  return true;
}

Result<Statement> Database::prepare(std::string_view sql) {
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &statement, nullptr) !=
      SQLITE_OK) {
    return sqlite_error(db_, "cannot prepare statement");
  }
  return Statement(db_, statement);
}

Result<bool> Database::migrate(std::span<const std::string_view> migrations) {
  if (auto made =
          execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)");
      !made.ok()) {
    return made;
  }
  for (std::size_t version = 1; version <= migrations.size(); ++version) {
    auto check = prepare("SELECT 1 FROM schema_migrations WHERE version = ?");
    if (!check.ok()) return check.error();
    check->bind(1, static_cast<std::int64_t>(version));
    auto applied = check->step();
    if (!applied.ok()) return applied;
    if (*applied) continue;
    std::string script = "BEGIN IMMEDIATE;\n" + std::string(migrations[version - 1]) +
                         ";\nINSERT INTO schema_migrations (version) VALUES (" +
                         std::to_string(version) + ");\nCOMMIT;";
    if (auto done = execute(script); !done.ok()) {
      execute("ROLLBACK");
      return done;
    }
  }
  return true;
}

}  // namespace esp::store
