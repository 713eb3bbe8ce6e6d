// How much memory this process may use, from what bounds it: its cgroup's limit (what
// Kubernetes enforces), its address-space rlimit and the machine's physical memory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>

namespace esp {

struct MemoryBounds {
  std::optional<std::uint64_t> cgroup_bytes;  // memory.max (v2) or memory.limit_in_bytes (v1)
  std::optional<std::uint64_t> address_space_bytes;  // RLIMIT_AS
  std::uint64_t physical_bytes = 0;
  // The smallest bound there is.
  std::uint64_t tightest() const;
};

// The bounds of this process. `cgroup_root` is where the cgroup file systems are mounted
// (tests point it at a folder of their own); `self_cgroup` is /proc/self/cgroup.
MemoryBounds memory_bounds(const std::filesystem::path& cgroup_root = "/sys/fs/cgroup",
                           const std::filesystem::path& self_cgroup = "/proc/self/cgroup");

}  // namespace esp
