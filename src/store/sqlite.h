// A thin RAII layer over SQLite: one serialized connection, prepared statements,
// and numbered migrations applied once.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/error.h"

struct sqlite3;
struct sqlite3_stmt;

namespace esp::store {

class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* statement) : db_(db), statement_(statement) {}
  Statement(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& operator=(Statement&&) = delete;
  ~Statement();

  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, std::int64_t number);

  // Advances to the next row: true when there is one. Errors become kInternal, or
  // kAlreadyExists for constraint violations.
  Result<bool> step();
  std::string text(int column) const;
  std::int64_t integer(int column) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* statement_;
};

class Database {
 public:
  // Opens (creating) the file with WAL, foreign keys and a busy timeout, then applies
  // `migrations[i]` for every i not applied yet, each in its own transaction.
  static Result<std::shared_ptr<Database>> open(const std::filesystem::path& file,
                                                std::span<const std::string_view> migrations);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  Result<bool> execute(std::string_view sql);
  Result<Statement> prepare(std::string_view sql);

  // Held by every repository call, so a multi-statement transaction on this shared
  // connection never interleaves with another thread's statements.
  std::unique_lock<std::recursive_mutex> lock() { return std::unique_lock(mutex_); }

 private:
  explicit Database(sqlite3* db) : db_(db) {}
  Result<bool> migrate(std::span<const std::string_view> migrations);
  sqlite3* db_;
  std::recursive_mutex mutex_;
};

}  // namespace esp::store
