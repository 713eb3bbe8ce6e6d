// Durable, private files: secrets are 0600 from the moment they exist, folders 0700.
#include "core/files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

#include "core/large_blocks.h"

namespace esp {
namespace {

namespace fs = std::filesystem;

unsigned mode_of(const fs::path& path) {
  struct stat info {};
  EXPECT_EQ(::stat(path.c_str(), &info), 0) << path;
  return info.st_mode & 0777;
}

struct Folder {
  fs::path path = fs::temp_directory_path() / ("files-test-" + std::to_string(::getpid()));
  Folder() { fs::remove_all(path); }
  ~Folder() { fs::remove_all(path); }
};

TEST(Files, FoldersAreMadePrivateWithEveryMissingParent) {
  Folder folder;
  const mode_t saved = ::umask(0);  // a permissive umask must not widen them
  ASSERT_TRUE(make_private_folders(folder.path / "a" / "b").ok());
  ::umask(saved);
  EXPECT_EQ(mode_of(folder.path), 0700u);
  EXPECT_EQ(mode_of(folder.path / "a" / "b"), 0700u);
}

TEST(Files, AFileIsWrittenWholeWithExactlyItsMode) {
  Folder folder;
  ASSERT_TRUE(make_private_folders(folder.path).ok());
  const mode_t saved = ::umask(0);
  ASSERT_TRUE(write_file_durably(folder.path / "key.pem", "secret", 0600).ok());
  ::umask(saved);
  EXPECT_EQ(mode_of(folder.path / "key.pem"), 0600u);
  ASSERT_TRUE(write_file_durably(folder.path / "key.pem", "replaced").ok());
  std::stringstream text;
  text << std::ifstream(folder.path / "key.pem").rdbuf();
  EXPECT_EQ(text.str(), "replaced");
  // Nothing is left beside it.
  EXPECT_EQ(std::distance(fs::directory_iterator(folder.path), fs::directory_iterator()), 1);
}

// Large aligned bytes (a population in a huge-page block) are written around the page
// cache, their unaligned tail and unaligned bytes through it: each file holds exactly its
// bytes, where the filesystem takes direct I/O and where it does not (tmpfs, if mounted).
TEST(Files, LargeWritesHoldExactlyTheirBytesAlignedOrNot) {
  std::vector<fs::path> places{fs::temp_directory_path()};
  if (fs::is_directory("/dev/shm")) places.emplace_back("/dev/shm");
  const std::size_t size = (std::size_t{9} << 20) + 1234;  // 9 MiB and an unaligned tail
  core::ByteBlock block(size);
  for (std::size_t i = 0; i < size; ++i)
    block.data()[i] = static_cast<char>((i * 7919) >> 5);
  for (const auto& place : places) {
    const fs::path file = place / ("files-test-large-" + std::to_string(::getpid()));
    for (std::string_view bytes : {block.view(), block.view().substr(1)}) {
      ASSERT_TRUE(write_file_durably(file, bytes).ok()) << place;
      std::ifstream in(file, std::ios::binary);
      const std::string back((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
      EXPECT_EQ(back.size(), bytes.size()) << place;
      EXPECT_TRUE(back == bytes) << place;
    }
    fs::remove(file);
  }
}

// A write in pieces tells how far it has written as it goes, up to every byte, so that
// the caller can give back what is written (a 490 MB checkpoint) before the fsync ends.
TEST(Files, AWriteInPiecesTellsHowFarItHasWrittenUpToEveryByte) {
  Folder folder;
  ASSERT_TRUE(make_private_folders(folder.path).ok());
  const std::size_t size = (std::size_t{72} << 20) + 1234;  // over one 64 MiB piece
  core::ByteBlock block(size);
  for (std::size_t i = 0; i + 8 <= size; i += 8) {
    const std::uint64_t word = i * 0x9E3779B97F4A7C15;
    std::memcpy(block.data() + i, &word, 8);
  }
  std::memcpy(block.data() + size - 8, "the tail", 8);
  std::vector<std::size_t> told;
  const fs::path file = folder.path / "population.pb";
  ASSERT_TRUE(write_file_durably(file, block.view(), 0600, [&](std::size_t written) {
                told.push_back(written);
              }).ok());
  ASSERT_FALSE(told.empty());
  EXPECT_EQ(told.back(), size);
  EXPECT_TRUE(std::is_sorted(told.begin(), told.end()));
  EXPECT_EQ(std::adjacent_find(told.begin(), told.end()), told.end());  // each time further
  std::string back(fs::file_size(file), '\0');
  std::ifstream(file, std::ios::binary)
      .read(back.data(), static_cast<std::streamsize>(back.size()));
  EXPECT_TRUE(back == block.view());
  EXPECT_EQ(mode_of(file), 0600u);
}

TEST(Files, AFolderThatCannotBeWrittenIsAnError) {
  auto written = write_file_durably("/proc/esp-no-such/file", "x");
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().code, Code::kUnavailable);
}

}  // namespace
}  // namespace esp
