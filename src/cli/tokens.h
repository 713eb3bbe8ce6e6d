// Tokens for the command-line client: obtained from espd (POST /auth) or any OAuth2
// token URL (client credentials, Auth0-shaped), cached per server in
// ~/.config/esp/tokens.json (0600) and reused until they expire.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "core/error.h"

namespace esp::cli {

struct Token {
  std::string access_token;
  std::int64_t expires_at = 0;  // unix seconds; 0 when unknown
};

// The `exp` claim of a JWT, read without verifying it (the server verifies).
std::optional<std::int64_t> expiry_of(const std::string& jwt);

class TokenCache {
 public:
  // $XDG_CONFIG_HOME/esp/tokens.json, else ~/.config/esp/tokens.json.
  static std::filesystem::path default_path();
  explicit TokenCache(std::filesystem::path path) : path_(std::move(path)) {}

  // The token cached for `server`, if any (expired ones too: the caller says why it fails).
  std::optional<Token> find(const std::string& server) const;
  // Written atomically, the file and its folder readable by the user only.
  Result<bool> store(const std::string& server, const Token& token) const;

 private:
  std::filesystem::path path_;
};

// POST <server>/auth {"email", "password"}.
Result<Token> login(const std::string& server, const std::string& email,
                    const std::string& password);

// OAuth2 client credentials at `token_url` (espd's /oauth/token or an Auth0-style URL,
// which needs the `audience`).
Result<Token> client_credentials(const std::string& token_url, const std::string& client_id,
                                 const std::string& client_secret, const std::string& audience);

}  // namespace esp::cli
