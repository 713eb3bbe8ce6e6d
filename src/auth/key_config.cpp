#include "auth/key_config.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "core/files.h"
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
  // 0700 folder, 0600 file from its creation, fsynced: the key is never readable by
  // others and never half-written after a crash.
  if (auto folder = make_private_folders(path.parent_path()); !folder.ok()) return folder.error();
  if (auto written = write_file_durably(path, *pem, 0600); !written.ok()) return written.error();
  return key;
}

Result<TrustedIssuer> read_issuer(const nlohmann::json& entry, const std::string& where,
                                  Fetch& fetch) {
  if (!entry.is_object()) return invalid(where + ": must be an object");
  TrustedIssuer issuer;
  issuer.issuer = entry.value("issuer", "");
  if (issuer.issuer.empty()) return invalid(where + ": issuer required");
  // Record owners read "<issuer> <subject>": the first space must end the issuer.
  if (issuer.issuer.find_first_of(" \t\r\n") != std::string::npos)
    return invalid(where + ": issuer must not contain white space");
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
    RemoteKeyOptions options;
    for (auto [name, target] : {std::pair{"jwks_lifetime_s", &options.default_lifetime},
                                std::pair{"jwks_min_refresh_s", &options.min_refresh}}) {
      if (!entry.contains(name)) continue;
      const auto& value = entry[name];
      if (!value.is_number_unsigned() || value.get<std::uint64_t>() > 86'400)
        return invalid(where + ": " + name + " must be seconds from 0 to 86400");
      *target = std::chrono::seconds(value.get<std::int64_t>());
    }
    issuer.keys = std::make_shared<KeySet>(url, fetch, options);
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
