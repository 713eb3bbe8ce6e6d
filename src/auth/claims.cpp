#include "auth/claims.h"

namespace esp::auth {

std::string_view name_of(Scope scope) {
  switch (scope) {
    case Scope::kRead:
      return "esp:read";
    case Scope::kWrite:
      return "esp:write";
    case Scope::kAdmin:
      return "esp:admin";
  }
  return "";
}

Scopes Scopes::parse(std::string_view space_separated) {
  Scopes scopes;
  std::size_t start = 0;
  while (start <= space_separated.size()) {
    std::size_t end = space_separated.find(' ', start);
    if (end == std::string_view::npos) end = space_separated.size();
    auto scope = space_separated.substr(start, end - start);
    if (scope == "esp:read") scopes = scopes.with(Scope::kRead);
    if (scope == "esp:write") scopes = scopes.with(Scope::kWrite);
    if (scope == "esp:admin") scopes = scopes.with(Scope::kAdmin);
    if (scope == "all:esp") scopes = all();
    start = end + 1;
  }
  return scopes;
}

std::string Scopes::to_string() const {
  std::string out;
  for (Scope scope : {Scope::kRead, Scope::kWrite, Scope::kAdmin}) {
    if (!has(scope)) continue;
    if (!out.empty()) out += ' ';
    out += name_of(scope);
  }
  return out;
}

}  // namespace esp::auth
