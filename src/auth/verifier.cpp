#include "auth/verifier.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "auth/digest.h"
#include "auth/strict_json.h"

namespace esp::auth {
namespace {

Error rejected(std::string reason) {
  return Error{Code::kUnauthenticated, std::move(reason)};
}

// A NumericDate (RFC 7519 section 2): seconds, possibly fractional.
std::optional<std::int64_t> numeric_date(const nlohmann::json& payload, const char* name,
                                         bool& malformed) {
  auto it = payload.find(name);
  if (it == payload.end()) return std::nullopt;
  if (!it->is_number() || !std::isfinite(it->get<double>())) {
    malformed = true;
    return std::nullopt;
  }
  return static_cast<std::int64_t>(std::floor(it->get<double>()));
}

std::vector<std::string> audiences_of(const nlohmann::json& payload, bool& malformed) {
  std::vector<std::string> audiences;
  auto it = payload.find("aud");
  if (it == payload.end()) return audiences;
  if (it->is_string()) {
    audiences.push_back(it->get<std::string>());
  } else if (it->is_array()) {
    for (const auto& entry : *it) {
      if (!entry.is_string())
        malformed = true;
      else
        audiences.push_back(entry.get<std::string>());
    }
  } else {
    malformed = true;
  }
  return audiences;
}

Scopes scopes_of(const nlohmann::json& payload) {
  Scopes scopes;
  if (auto it = payload.find("scope"); it != payload.end() && it->is_string()) {
    scopes = scopes | Scopes::parse(it->get_ref<const std::string&>());
  }
  if (auto it = payload.find("permissions"); it != payload.end() && it->is_array()) {
    for (const auto& entry : *it) {
      if (entry.is_string()) scopes = scopes | Scopes::parse(entry.get_ref<const std::string&>());
    }
  }
  return scopes;
}

}  // namespace

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Verifier::Verifier(std::vector<TrustedIssuer> issuers, VerifierOptions options, UnixClock clock)
    : issuers_(std::move(issuers)), options_(options), clock_(std::move(clock)) {}

Result<Claims> Verifier::verify(std::string_view token) const {
  if (token.size() > options_.max_token_bytes) return rejected("token too large");
  std::string digest = sha256(token);
  {
    std::lock_guard lock(cache_mutex_);
    if (auto it = cache_.find(digest); it != cache_.end()) {
      const Verified& cached = it->second;
      if (!still_valid(*cached.claims)) {
        cache_.erase(it);
        return rejected("token expired");
      }
      // The same keys verified it: still good. Others since (a fetch): check it again.
      if (cached.key_set->current() == cached.keys) return *cached.claims;
      cache_.erase(it);
    }
  }
  Verified verified;
  auto claims = verify_uncached(token, verified);
  if (claims.ok()) {
    verified.claims = std::make_shared<const Claims>(*claims);
    remember(std::move(digest), std::move(verified));
  }
  return claims;
}

Result<Claims> Verifier::verify_uncached(std::string_view token, Verified& verified) const {
  auto unverified = parse_compact(token, options_.max_token_bytes);
  if (!unverified.ok()) return unverified.error();
  auto payload = parse_strict_object(unverified->payload);
  if (!payload) return rejected("token payload is not a JSON object with unique claims");
  auto iss = payload->find("iss");
  if (iss == payload->end() || !iss->is_string()) return rejected("token has no issuer");
  auto issuer = std::find_if(issuers_.begin(), issuers_.end(), [&](const TrustedIssuer& trusted) {
    return trusted.issuer == iss->get_ref<const std::string&>();
  });
  if (issuer == issuers_.end()) return rejected("token issuer is not trusted");
  const Algorithm alg = *algorithm_named(unverified->header["alg"].get<std::string>());
  if (std::find(issuer->algorithms.begin(), issuer->algorithms.end(), alg) ==
      issuer->algorithms.end()) {
    return rejected("token algorithm is not allowed for its issuer");
  }
  Keys keys = issuer->keys->current();
  verified.key_set = issuer->keys.get();
  verified.keys = keys;
  auto check = check_signature(*unverified, *keys);
  // The issuer may have rotated: fetched in the background, for this token's retry.
  if (check == SignatureCheck::kUnknownKid) issuer->keys->request_refresh();
  if (check != SignatureCheck::kValid) {
    if (keys->empty() && issuer->keys->remote()) {
      auto why = issuer->keys->last_error();
      return rejected("issuer keys unavailable" + (why ? ": " + why->message : std::string()));
    }
    return signature_error(check);
  }
  return check_claims(*payload, *issuer);
}

Result<Claims> Verifier::check_claims(const nlohmann::json& payload,
                                      const TrustedIssuer& issuer) const {
  bool malformed = false;
  auto exp = numeric_date(payload, "exp", malformed);
  auto nbf = numeric_date(payload, "nbf", malformed);
  auto iat = numeric_date(payload, "iat", malformed);
  auto audiences = audiences_of(payload, malformed);
  auto sub = payload.find("sub");
  if (malformed || sub == payload.end() || !sub->is_string() ||
      sub->get_ref<const std::string&>().empty()) {
    return rejected("token claims are malformed");
  }
  if (!exp) return rejected("token has no expiry");
  const std::int64_t now = clock_();
  const std::int64_t leeway = options_.leeway.count();
  if (now > *exp + leeway) return rejected("token expired");
  if (nbf && now + leeway < *nbf) return rejected("token not yet valid");
  if (iat && *iat > now + leeway) return rejected("token issued in the future");
  const bool audience_ok =
      std::any_of(audiences.begin(), audiences.end(), [&](const std::string& aud) {
        return std::find(issuer.audiences.begin(), issuer.audiences.end(), aud) !=
               issuer.audiences.end();
      });
  if (!audience_ok) return rejected("token audience is not accepted");
  const auto& subject = sub->get_ref<const std::string&>();
  Claims claims{.issuer = issuer.issuer,
                .subject = subject,
                .owner = issuer.own ? subject : issuer.issuer + " " + subject,
                .audience = std::move(audiences),
                .issued_at = iat.value_or(0),
                .not_before = nbf.value_or(0),
                .expires_at = *exp,
                .token_id = payload.value("jti", ""),
                .email = payload.contains("email") && payload["email"].is_string()
                             ? payload["email"].get<std::string>()
                             : "",
                .scopes = scopes_of(payload),
                .all = payload};
  return claims;
}

bool Verifier::still_valid(const Claims& claims) const {
  const std::int64_t now = clock_();
  const std::int64_t leeway = options_.leeway.count();
  return now <= claims.expires_at + leeway &&
         (claims.not_before == 0 || now + leeway >= claims.not_before);
}

void Verifier::remember(std::string digest, Verified verified) const {
  std::lock_guard lock(cache_mutex_);
  if (cache_.size() >= options_.cache_entries) {
    std::erase_if(cache_, [&](const auto& entry) { return !still_valid(*entry.second.claims); });
    if (cache_.size() >= options_.cache_entries) cache_.clear();
  }
  cache_.emplace(std::move(digest), std::move(verified));
}

}  // namespace esp::auth
