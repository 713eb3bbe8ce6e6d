#include "auth/strict_json.h"

#include "core/json.h"

namespace esp::auth {

std::optional<nlohmann::json> parse_strict_object(std::string_view text) {
  auto parsed = json::parse(text, {.unique_keys = true});
  if (!parsed.ok() || !parsed.value.is_object()) return std::nullopt;
  return std::move(parsed.value);
}

}  // namespace esp::auth
