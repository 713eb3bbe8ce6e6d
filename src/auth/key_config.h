// Turns espd's settings into keys: the ones it signs with, and the issuers it trusts.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "auth/key.h"
#include "auth/verifier.h"

namespace esp::auth {

struct SigningKeyOptions {
  std::string jwt_secret;              // JWT_SECRET: HS256
  std::vector<std::string> pem_files;  // ESP_SIGNING_KEYS, newest first
  std::filesystem::path data_dir;      // where a generated key is kept
  bool insecure_dev = false;           // accept a JWT_SECRET under 32 bytes
};

// Newest first, so the first key signs: the PEM files in the order given, then the HS256
// secret. With neither, an ES256 key generated on first start and kept in
// <data_dir>/keys/signing-es256.pem (mode 0600), so tokens survive restarts.
Result<std::vector<Key>> load_signing_keys(const SigningKeyOptions& options);

// ESP_TRUSTED_ISSUERS: a JSON array, inline or in the named file, of
//   {"issuer": "https://tenant.auth0.com/", "audience": "esp" | "audiences": [...],
//    "algorithms": ["RS256"], "jwks_url": "https://.../jwks.json" | "pem_file": "/path.pem",
//    "kid": "optional, for pem_file"}
// Every problem is reported by position, e.g. "trusted issuer 2: jwks_url or pem_file required".
Result<std::vector<TrustedIssuer>> parse_trusted_issuers(
    std::string_view json_or_path,
    Fetch fetch = [](const std::string& url) { return fetch_url(url); });

}  // namespace esp::auth
