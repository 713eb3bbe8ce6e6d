#include "auth/key_config.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "core/json.h"

namespace esp::auth {
namespace {

namespace fs = std::filesystem;

Result<std::string> read_file(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return Error{Code::kInvalidArgument, "cannot read " + path.string()};
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

Error invalid(std::string message) {
  return Error{Code::kInvalidArgument, std::move(message)};
}

Result<Key> generated_key(const fs::path& data_dir) {
  const fs::path path = data_dir / "keys" / "signing-es256.pem";
  if (fs::exists(path)) {
    auto pem = read_file(path);
    if (!pem.ok()) return pem.error();
    return Key::from_pem(*pem);
  }
  auto key = Key::generate(Algorithm::kES256);
  if (!key.ok()) return key;
  auto pem = key->private_pem();
  if (!pem.ok()) return pem.error();
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  const fs::path temporary = path.string() + ".tmp";
  {
    std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
    if (!file) return Error{Code::kUnavailable, "cannot write " + temporary.string()};
  }
  ::chmod(temporary.c_str(), 0600);  // before the secret is written
  std::ofstream(temporary, std::ios::binary) << *pem;
  fs::rename(temporary, path, ec);
  if (ec) return Error{Code::kUnavailable, "cannot write " + path.string() + ": " + ec.message()};
  return key;
}

Result<TrustedIssuer> read_issuer(const nlohmann::json& entry, const std::string& where,
                                  Fetch& fetch) {
  if (!entry.is_object()) return invalid(where + ": must be an object");
  TrustedIssuer issuer;
  issuer.issuer = entry.value("issuer", "");
  if (issuer.issuer.empty()) return invalid(where + ": issuer required");
  if (entry.contains("audience") && entry["audience"].is_string()) {
    issuer.audiences.push_back(entry["audience"].get<std::string>());
  }
  if (entry.contains("audiences") && entry["audiences"].is_array()) {
    for (const auto& aud : entry["audiences"]) {
      if (aud.is_string()) issuer.audiences.push_back(aud.get<std::string>());
    }
  }
  if (issuer.audiences.empty()) return invalid(where + ": audience or audiences required");
  for (const auto& name : entry.value("algorithms", nlohmann::json::array({"RS256"}))) {
    auto algorithm = name.is_string() ? algorithm_named(name.get<std::string>()) : std::nullopt;
    if (!algorithm) return invalid(where + ": algorithms must be RS256, ES256 or HS256");
    issuer.algorithms.push_back(*algorithm);
  }
  if (entry.contains("jwks_url") && entry["jwks_url"].is_string()) {
    const auto url = entry["jwks_url"].get<std::string>();
    if (!url.starts_with("https://") && !url.starts_with("http://")) {
      return invalid(where + ": jwks_url must be an http(s) URL");
    }
    issuer.keys = std::make_shared<KeySet>(url, fetch);
  } else if (entry.contains("pem_file") && entry["pem_file"].is_string()) {
    auto pem = read_file(entry["pem_file"].get<std::string>());
    if (!pem.ok()) return invalid(where + ": " + pem.error().message);
    auto key = Key::from_pem(*pem);
    if (!key.ok()) return invalid(where + ": " + key.error().message);
    // Without a configured kid the key verifies tokens whatever kid they carry.
    issuer.keys = std::make_shared<KeySet>(std::vector<Key>{key->with_kid(entry.value("kid", ""))});
  } else {
    return invalid(where + ": jwks_url or pem_file required");
  }
  return issuer;
}

}  // namespace

Result<std::vector<Key>> load_signing_keys(const SigningKeyOptions& options) {
  std::vector<Key> keys;
  for (const auto& file : options.pem_files) {
    auto pem = read_file(file);
    if (!pem.ok()) return invalid("ESP_SIGNING_KEYS: " + pem.error().message);
    auto key = Key::from_pem(*pem);
    if (!key.ok()) return invalid("ESP_SIGNING_KEYS: " + file + ": " + key.error().message);
    if (!key->can_sign()) return invalid("ESP_SIGNING_KEYS: " + file + ": not a private key");
    keys.push_back(std::move(*key));
  }
  if (!options.jwt_secret.empty()) {
    auto key = Key::hmac(options.jwt_secret, {}, options.insecure_dev ? 1 : 32);
    if (!key.ok()) {
      return invalid("JWT_SECRET: " + key.error().message + " (or start with --insecure-dev)");
    }
    keys.push_back(std::move(*key));
  }
  if (keys.empty()) {
    auto key = generated_key(options.data_dir);
    if (!key.ok()) return key.error();
    keys.push_back(std::move(*key));
  }
  return keys;
}

Result<std::vector<TrustedIssuer>> parse_trusted_issuers(std::string_view json_or_path,
                                                         Fetch fetch) {
  std::vector<TrustedIssuer> issuers;
  if (json_or_path.empty()) return issuers;
  std::string text(json_or_path);
  if (!text.starts_with("[")) {
    auto file = read_file(text);
    if (!file.ok()) return invalid("ESP_TRUSTED_ISSUERS: " + file.error().message);
    text = *file;
  }
  auto parsed = json::parse(text);
  if (!parsed.ok()) return invalid("ESP_TRUSTED_ISSUERS: " + parsed.issue->to_string());
  const auto& list = parsed.value;
  if (!list.is_array()) return invalid("ESP_TRUSTED_ISSUERS: must be a JSON array");
  for (std::size_t i = 0; i < list.size(); ++i) {
    auto issuer =
        read_issuer(list[i], "ESP_TRUSTED_ISSUERS: trusted issuer " + std::to_string(i + 1), fetch);
    if (!issuer.ok()) return issuer.error();
    issuers.push_back(std::move(*issuer));
  }
  return issuers;
}

}  // namespace esp::auth
