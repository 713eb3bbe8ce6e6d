// Who may obtain tokens, as the accounts use case needs them looked up: users (email +
// password) and OAuth2 clients (id + secret), stored only as Argon2id hashes. auth owns
// this interface; the store implements it (SQLite, PostgreSQL), so auth links no store.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"

namespace esp::auth {

struct User {
  std::string email;
  std::string password_hash;
  std::string scopes;  // space separated, e.g. "esp:read esp:write"
  bool disabled = false;
  std::int64_t created_at = 0;
};

struct Client {
  std::string client_id;
  std::string name;
  std::string secret_hash;
  std::string scopes;
  bool disabled = false;
  std::int64_t created_at = 0;
};

class Users {
 public:
  virtual ~Users() = default;
  // kAlreadyExists when the email is taken.
  virtual Result<bool> add(const User& user) = 0;
  virtual Result<std::optional<User>> find(const std::string& email) = 0;
  virtual Result<std::vector<User>> list() = 0;
  // kNotFound for an unknown email.
  virtual Result<bool> disable(const std::string& email) = 0;
};

class Clients {
 public:
  virtual ~Clients() = default;
  virtual Result<bool> add(const Client& client) = 0;
  virtual Result<std::optional<Client>> find(const std::string& client_id) = 0;
};

}  // namespace esp::auth
