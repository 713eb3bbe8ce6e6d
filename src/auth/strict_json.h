// JSON for security decisions: one value per key. nlohmann keeps the last of duplicate
// keys, so a token with two "sub" or two "alg" members could mean different things to
// different parsers; such documents are refused.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

namespace esp::auth {

// The parsed object, or nullopt for invalid JSON, a non-object, a duplicate key at any depth,
// or nesting deeper than json::kMaxDepth.
std::optional<nlohmann::json> parse_strict_object(std::string_view text);

}  // namespace esp::auth
