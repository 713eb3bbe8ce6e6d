// Percent-encoding (RFC 3986): every byte but the unreserved characters becomes %XX.
#pragma once

#include <string>
#include <string_view>

namespace esp {

// `keep_slash`: '/' stays, for paths whose segments are encoded together (S3 keys).
std::string percent_encode(std::string_view text, bool keep_slash = false);

}  // namespace esp
