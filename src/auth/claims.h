// What a verified token says about its caller: identity, audience, lifetime, scopes.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace esp::auth {

enum class Scope : std::uint8_t { kRead = 1, kWrite = 2, kAdmin = 4 };

// "esp:read", "esp:write" or "esp:admin".
std::string_view name_of(Scope scope);

// esp:read, esp:write, esp:admin; "all:esp" grants all three. Other scopes are ignored.
class Scopes {
 public:
  Scopes() = default;
  static Scopes all() { return Scopes(7); }
  // From an OAuth2 "scope" string (space separated) or an Auth0 "permissions" entry.
  static Scopes parse(std::string_view space_separated);

  bool has(Scope scope) const { return (bits_ & static_cast<std::uint8_t>(scope)) != 0; }
  Scopes with(Scope scope) const { return Scopes(bits_ | static_cast<std::uint8_t>(scope)); }
  Scopes operator|(Scopes other) const { return Scopes(bits_ | other.bits_); }
  Scopes operator&(Scopes other) const { return Scopes(bits_ & other.bits_); }
  bool empty() const { return bits_ == 0; }
  bool operator==(const Scopes&) const = default;
  // "esp:read esp:write", in that order; empty when none.
  std::string to_string() const;

 private:
  explicit Scopes(unsigned bits) : bits_(static_cast<std::uint8_t>(bits)) {}
  std::uint8_t bits_ = 0;
};

struct Claims {
  std::string issuer;
  std::string subject;
  // Whose records the token acts for: the subject for espd's own tokens (and for rows
  // made before owners were per issuer), "<issuer> <subject>" for an outside issuer's, so
  // two issuers' equal subjects never share records. Issuers hold no space; espd's own
  // subjects (emails, "<client>@clients") neither.
  std::string owner;
  std::vector<std::string> audience;
  std::int64_t issued_at = 0;
  std::int64_t not_before = 0;
  std::int64_t expires_at = 0;
  std::string token_id;  // jti
  std::string email;
  Scopes scopes;
  nlohmann::json all;  // every claim of the verified payload, for GET /contents
};

}  // namespace esp::auth
