#include "cli/tokens.h"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/base64url.h"
#include "core/files.h"
#include "core/http_client.h"
#include "core/percent_encode.h"

namespace esp::cli {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

// The error a token endpoint gave: problem+json detail or OAuth2 error_description.
std::string refusal(const HttpAnswer& answer) {
  const auto body = Json::parse(answer.body, nullptr, false);
  if (body.is_object()) {
    for (const char* field : {"detail", "error_description", "error"}) {
      if (body.contains(field) && body[field].is_string()) return body[field].get<std::string>();
    }
  }
  return "HTTP " + std::to_string(answer.status);
}

Result<Token> token_from(const Result<HttpAnswer>& answer, const char* field,
                         const std::string& where) {
  if (!answer.ok()) return Error{Code::kUnavailable, "cannot reach " + answer.error().message};
  if (answer->status != 200)
    return Error{Code::kUnauthenticated, where + " refused: " + refusal(*answer)};
  const auto body = Json::parse(answer->body, nullptr, false);
  if (!body.is_object() || !body.contains(field) || !(*body.find(field)).is_string())
    return Error{Code::kInternal, where + " answered without a token"};
  Token token{.access_token = body[field].get<std::string>()};
  if (auto expiry = expiry_of(token.access_token)) {
    token.expires_at = *expiry;
  } else if (body.contains("expires_in") && body["expires_in"].is_number()) {
    token.expires_at = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count() +
                       body["expires_in"].get<std::int64_t>();
  }
  return token;
}

}  // namespace

std::optional<std::int64_t> expiry_of(const std::string& jwt) {
  const auto first = jwt.find('.');
  const auto second = jwt.find('.', first + 1);
  if (first == std::string::npos || second == std::string::npos) return std::nullopt;
  auto payload = base64url_decode(std::string_view(jwt).substr(first + 1, second - first - 1));
  if (!payload) return std::nullopt;
  const auto claims = Json::parse(*payload, nullptr, false);
  if (!claims.is_object() || !claims.contains("exp") || !claims["exp"].is_number())
    return std::nullopt;
  return claims["exp"].get<std::int64_t>();
}

fs::path TokenCache::default_path() {
  if (const char* config = std::getenv("XDG_CONFIG_HOME"); config != nullptr && *config != '\0')
    return fs::path(config) / "esp" / "tokens.json";
  const char* home = std::getenv("HOME");
  return fs::path(home != nullptr ? home : ".") / ".config" / "esp" / "tokens.json";
}

std::optional<Token> TokenCache::find(const std::string& server) const {
  std::ifstream file(path_);
  if (!file) return std::nullopt;
  std::stringstream text;
  text << file.rdbuf();
  const auto cache = Json::parse(text.str(), nullptr, false);
  if (!cache.is_object() || !cache.contains(server) || !cache[server].is_object())
    return std::nullopt;
  const Json& entry = cache[server];
  return Token{entry.value("access_token", ""), entry.value("expires_at", std::int64_t{0})};
}

Result<bool> TokenCache::store(const std::string& server, const Token& token) const {
  if (auto folder = make_private_folders(path_.parent_path()); !folder.ok()) return folder.error();
  Json cache = Json::object();
  if (std::ifstream file(path_); file) {
    std::stringstream text;
    text << file.rdbuf();
    if (auto existing = Json::parse(text.str(), nullptr, false); existing.is_object())
      cache = existing;
  }
  cache[server] = {{"access_token", token.access_token}, {"expires_at", token.expires_at}};
  return write_file_durably(path_, cache.dump(2) + "\n", 0600);
}

Result<Token> login(const std::string& server, const std::string& email,
                    const std::string& password) {
  const std::string url = server + "/auth";
  auto answer = http_call({.method = "POST",
                           .url = url,
                           .headers = {{"Content-Type", "application/json"}},
                           .body = Json{{"email", email}, {"password", password}}.dump()});
  return token_from(answer, "token", url);
}

Result<Token> client_credentials(const std::string& token_url, const std::string& client_id,
                                 const std::string& client_secret, const std::string& audience) {
  std::string form = "grant_type=client_credentials&client_id=" + percent_encode(client_id) +
                     "&client_secret=" + percent_encode(client_secret);
  if (!audience.empty()) form += "&audience=" + percent_encode(audience);
  auto answer = http_call({.method = "POST",
                           .url = token_url,
                           .headers = {{"Content-Type", "application/x-www-form-urlencoded"}},
                           .body = form});
  return token_from(answer, "access_token", token_url);
}

}  // namespace esp::cli
