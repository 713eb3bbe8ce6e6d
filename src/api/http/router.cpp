#include "api/http/router.h"

#include <algorithm>
#include <stdexcept>

namespace esp::http {
namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  if (path.starts_with('/')) path.remove_prefix(1);
  while (true) {
    const size_t slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return parts;
}

}  // namespace

std::vector<Router::Segment> Router::parse_pattern(std::string_view pattern) {
  if (!pattern.starts_with('/')) {
    throw std::invalid_argument("route pattern must start with '/': " + std::string(pattern));
  }
  std::vector<Segment> segments;
  const auto parts = split_path(pattern);
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string_view part = parts[i];
    if (!part.starts_with('{')) {
      if (part.find_first_of("{}") != std::string_view::npos) {
        throw std::invalid_argument("braces inside a literal segment: " + std::string(pattern));
      }
      segments.push_back({Kind::kLiteral, std::string(part), {}});
      continue;
    }
    const size_t close = part.find('}');
    if (close == std::string_view::npos || close < 2) {
      throw std::invalid_argument("bad parameter in route: " + std::string(pattern));
    }
    std::string_view name = part.substr(1, close - 1);
    const std::string_view after = part.substr(close + 1);
    if (name.ends_with("...")) {
      if (i + 1 != parts.size() || !after.empty()) {
        throw std::invalid_argument("{name...} must end the pattern: " + std::string(pattern));
      }
      name.remove_suffix(3);
      segments.push_back({Kind::kRest, std::string(name), {}});
    } else if (after.empty()) {
      segments.push_back({Kind::kParam, std::string(name), {}});
    } else {
      segments.push_back({Kind::kSuffixParam, std::string(name), std::string(after)});
    }
  }
  return segments;
}

void Router::add(Verb method, std::string_view pattern, Handler handler) {
  for (const auto& route : routes_) {
    if (route.method == method && route.pattern == pattern) {
      throw std::invalid_argument("duplicate route: " + std::string(pattern));
    }
  }
  Route route{method, std::string(pattern), parse_pattern(pattern), std::move(handler)};
  // Compare segment by segment: a literal beats a suffix parameter beats a
  // parameter beats a rest capture; longer patterns first on ties.
  const auto more_specific = [](const Route& a, const Route& b) {
    const size_t n = std::min(a.segments.size(), b.segments.size());
    for (size_t i = 0; i < n; ++i) {
      if (a.segments[i].kind != b.segments[i].kind) return a.segments[i].kind < b.segments[i].kind;
    }
    return a.segments.size() > b.segments.size();
  };
  const auto at = std::upper_bound(routes_.begin(), routes_.end(), route, more_specific);
  routes_.insert(at, std::move(route));
}

bool Router::matches(const Route& route, const std::vector<std::string_view>& parts,
                     std::vector<PathParam>* params) {
  const auto& segments = route.segments;
  const bool has_rest = !segments.empty() && segments.back().kind == Kind::kRest;
  if (has_rest ? parts.size() < segments.size() : parts.size() != segments.size()) return false;
  for (size_t i = 0; i < segments.size(); ++i) {
    const Segment& segment = segments[i];
    const std::string_view part = parts[i];
    std::string_view captured;
    switch (segment.kind) {
      case Kind::kLiteral:
        if (part != segment.text) return false;
        continue;
      case Kind::kParam:
        if (part.empty()) return false;
        captured = part;
        break;
      case Kind::kSuffixParam:
        if (part.size() <= segment.suffix.size() || !part.ends_with(segment.suffix)) return false;
        captured = part.substr(0, part.size() - segment.suffix.size());
        break;
      case Kind::kRest: {
        const char* begin = part.data();
        const char* end = parts.back().data() + parts.back().size();
        captured = std::string_view(begin, static_cast<size_t>(end - begin));
        break;
      }
    }
    if (params == nullptr) continue;
    auto decoded = percent_decode(captured);
    if (!decoded) return false;
    params->push_back({segment.text, std::move(*decoded)});
  }
  return true;
}

Router::Outcome Router::match(Verb method, std::string_view path) const {
  const auto parts = split_path(path);
  std::string allow;
  const Route* fallback = nullptr;
  for (const Route& route : routes_) {
    if (!matches(route, parts, nullptr)) continue;
    if (route.method == method) {
      fallback = &route;
      break;
    }
    if (method == Verb::head && route.method == Verb::get && fallback == nullptr) fallback = &route;
    const std::string_view name = beast_http::to_string(route.method);
    if (allow.find(name) == std::string::npos) {
      if (!allow.empty()) allow += ", ";
      allow.append(name);
      if (route.method == Verb::get) allow += ", HEAD";
    }
  }
  if (fallback != nullptr) {
    Match found{&fallback->handler, fallback->pattern, {}};
    if (matches(*fallback, parts, &found.params)) return found;
    return NotFound{};  // a parameter had a malformed %-escape
  }
  if (allow.empty()) return NotFound{};
  return MethodNotAllowed{std::move(allow)};
}

}  // namespace esp::http
