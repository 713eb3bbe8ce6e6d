#include "auth/strict_json.h"

#include <set>
#include <string>
#include <vector>

namespace esp::auth {

std::optional<nlohmann::json> parse_strict_object(std::string_view text) {
  using Json = nlohmann::json;
  std::vector<std::set<std::string, std::less<>>> open_objects;
  bool duplicate = false;
  auto check = [&](int /*depth*/, Json::parse_event_t event, Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start:
        open_objects.emplace_back();
        break;
      case Json::parse_event_t::key:
        if (!open_objects.back().insert(parsed.get<std::string>()).second) duplicate = true;
        break;
      case Json::parse_event_t::object_end:
        open_objects.pop_back();
        break;
      default:
        break;
    }
    return true;
  };
  Json value = Json::parse(text, check, /*allow_exceptions=*/false);
  if (value.is_discarded() || duplicate || !value.is_object()) return std::nullopt;
  return value;
}

}  // namespace esp::auth
