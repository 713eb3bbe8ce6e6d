// The memory this process may use: its cgroup's limit (or an ancestor's), RLIMIT_AS and
// physical memory, whichever is smallest.
#include "core/memory_limit.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace esp {
namespace {

namespace fs = std::filesystem;

struct FakeCgroups {
  fs::path root = fs::temp_directory_path() / ("cgroups-" + std::to_string(::getpid()));
  FakeCgroups() { fs::remove_all(root); }
  ~FakeCgroups() { fs::remove_all(root); }
  void write(const fs::path& relative, const std::string& text) {
    fs::create_directories((root / relative).parent_path());
    std::ofstream(root / relative) << text << "\n";
  }
};

TEST(MemoryLimit, TheTightestCgroupLimitOnThePathBindsV2) {
  FakeCgroups cgroups;
  cgroups.write("self", "0::/kubepods/pod1/espd");
  cgroups.write("fs/memory.max", "max");
  cgroups.write("fs/kubepods/pod1/memory.max", "3221225472");  // the pod's limit: 3 GiB
  cgroups.write("fs/kubepods/pod1/espd/memory.max", "max");
  const auto bounds = memory_bounds(cgroups.root / "fs", cgroups.root / "self");
  EXPECT_EQ(bounds.cgroup_bytes, std::uint64_t{3} << 30);
  EXPECT_GT(bounds.physical_bytes, 0u);
  EXPECT_EQ(bounds.tightest(), std::min(bounds.physical_bytes, std::uint64_t{3} << 30));
}

TEST(MemoryLimit, V1MemoryControllerAndItsNoLimitValue) {
  FakeCgroups cgroups;
  cgroups.write("self", "4:memory:/docker/abc\n3:cpuset:/");
  cgroups.write("fs/memory/memory.limit_in_bytes", "9223372036854771712");  // no limit
  cgroups.write("fs/memory/docker/abc/memory.limit_in_bytes", "1073741824");
  EXPECT_EQ(memory_bounds(cgroups.root / "fs", cgroups.root / "self").cgroup_bytes,
            std::uint64_t{1} << 30);
  cgroups.write("fs/memory/docker/abc/memory.limit_in_bytes", "9223372036854771712");
  EXPECT_FALSE(memory_bounds(cgroups.root / "fs", cgroups.root / "self").cgroup_bytes);
}

TEST(MemoryLimit, TheSmallestBoundWins) {
  MemoryBounds bounds{
      .cgroup_bytes = 8ull << 30, .address_space_bytes = 3ull << 30, .physical_bytes = 16ull << 30};
  EXPECT_EQ(bounds.tightest(), 3ull << 30);
  EXPECT_EQ((MemoryBounds{.physical_bytes = 5}).tightest(), 5u);
}

}  // namespace
}  // namespace esp
