// Maps a method and a path to a handler. Patterns are '/'-separated segments:
// literals, "{name}" (one segment), "{name}:suffix" (one segment ending in
// ":suffix", as in "/v1/operations/{id}:cancel") and a final "{name...}"
// (the rest of the path). The most specific pattern wins.
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "api/http/message.h"

namespace esp::http {

class Router {
 public:
  struct Match {
    const Handler* handler = nullptr;
    std::string_view pattern;
    std::vector<PathParam> params;
  };
  struct NotFound {};
  struct MethodNotAllowed {
    std::string allow;  // for the Allow header, e.g. "GET, HEAD"
  };
  using Outcome = std::variant<Match, NotFound, MethodNotAllowed>;

  // Throws std::invalid_argument for a malformed pattern or a duplicate route.
  void add(Verb method, std::string_view pattern, Handler handler);
  // HEAD falls back to the GET route.
  Outcome match(Verb method, std::string_view path) const;

 private:
  enum class Kind { kLiteral, kSuffixParam, kParam, kRest };
  struct Segment {
    Kind kind;
    std::string text;  // literal text, or the parameter's name
    std::string suffix;
  };
  struct Route {
    Verb method;
    std::string pattern;
    std::vector<Segment> segments;
    Handler handler;
  };

  static std::vector<Segment> parse_pattern(std::string_view pattern);
  static bool matches(const Route& route, const std::vector<std::string_view>& parts,
                      std::vector<PathParam>* params);

  std::vector<Route> routes_;  // most specific first
};

}  // namespace esp::http
