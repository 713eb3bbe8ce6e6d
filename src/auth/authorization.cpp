#include "auth/authorization.h"

#include <cctype>

namespace esp::auth {

std::optional<std::string_view> credentials_for(std::string_view authorization,
                                                std::string_view scheme) {
  if (authorization.size() <= scheme.size() || authorization[scheme.size()] != ' ')
    return std::nullopt;
  for (std::size_t i = 0; i < scheme.size(); ++i) {
    const auto lower = [](char c) { return std::tolower(static_cast<unsigned char>(c)); };
    if (lower(authorization[i]) != lower(scheme[i])) return std::nullopt;
  }
  auto credentials = authorization.substr(scheme.size());
  while (!credentials.empty() && credentials.front() == ' ')
    credentials.remove_prefix(1);
  if (credentials.empty()) return std::nullopt;
  return credentials;
}

}  // namespace esp::auth
