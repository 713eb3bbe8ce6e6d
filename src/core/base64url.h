// base64url without padding (RFC 4648 section 5), as JOSE uses it (RFC 7515 section 2).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace esp {

std::string base64url_encode(std::string_view bytes);

// Strict: only the URL-safe alphabet, no padding, no whitespace, and the unused bits of
// the last character must be zero, so every byte string has exactly one encoding.
std::optional<std::string> base64url_decode(std::string_view text);

// Standard base64 with padding (RFC 4648 section 4), as HTTP Basic credentials and
// JSON payloads use it.
std::string base64_encode(std::string_view bytes);
// Strict standard base64 with padding.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace esp
