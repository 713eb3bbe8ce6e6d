#include "core/memory_limit.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <string>

namespace esp {
namespace {

namespace fs = std::filesystem;

// The number in a cgroup limit file; nullopt for "max", a missing file or v1's "no limit"
// (a page-rounded 2^63).
std::optional<std::uint64_t> limit_in(const fs::path& file) {
  std::ifstream in(file);
  std::string text;
  if (!(in >> text)) return std::nullopt;
  std::uint64_t value = 0;
  auto [end, failure] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (failure != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (value >= (std::uint64_t{1} << 62)) return std::nullopt;
  return value;
}

std::optional<std::uint64_t> smaller(std::optional<std::uint64_t> a,
                                     std::optional<std::uint64_t> b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

// The tightest limit on the cgroup path and every ancestor of it (a parent's limit binds
// its children), for the v2 hierarchy and the v1 memory controller.
std::optional<std::uint64_t> cgroup_limit(const fs::path& root, const fs::path& self_cgroup) {
  std::optional<std::uint64_t> tightest;
  std::ifstream in(self_cgroup);
  std::string line;
  while (std::getline(in, line)) {
    // "0::/kubepods/pod1/abc" (v2) or "4:memory:/docker/abc" (v1)
    const auto first = line.find(':');
    const auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    fs::path path = fs::path(line.substr(second + 1)).relative_path();
    const bool v2 = controllers.empty();
    if (!v2 && controllers.find("memory") == std::string::npos) continue;
    const fs::path base = v2 ? root : root / "memory";
    const char* file = v2 ? "memory.max" : "memory.limit_in_bytes";
    for (;; path = path.parent_path()) {
      tightest = smaller(tightest, limit_in(base / path / file));
      if (path.empty()) break;
    }
  }
  return tightest;
}

}  // namespace

std::uint64_t MemoryBounds::tightest() const {
  return smaller(smaller(cgroup_bytes, address_space_bytes), physical_bytes).value_or(0);
}

MemoryBounds memory_bounds(const fs::path& cgroup_root, const fs::path& self_cgroup) {
  MemoryBounds bounds;
  bounds.cgroup_bytes = cgroup_limit(cgroup_root, self_cgroup);
  rlimit address_space{};
  if (::getrlimit(RLIMIT_AS, &address_space) == 0 && address_space.rlim_cur != RLIM_INFINITY)
    bounds.address_space_bytes = address_space.rlim_cur;
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGESIZE);
  if (pages > 0 && page_size > 0)
    bounds.physical_bytes =
        static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page_size);
  return bounds;
}

}  // namespace esp
