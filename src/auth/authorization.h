// Reads an HTTP Authorization value (or gRPC "authorization" metadata).
#pragma once

#include <optional>
#include <string_view>

namespace esp::auth {

// The credentials after `scheme` ("Bearer abc" for "bearer" -> "abc"), or nullopt for
// another scheme or no credentials. Schemes compare case-insensitively (RFC 9110 11.1).
std::optional<std::string_view> credentials_for(std::string_view authorization,
                                                std::string_view scheme);

}  // namespace esp::auth
