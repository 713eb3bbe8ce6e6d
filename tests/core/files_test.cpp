// Durable, private files: secrets are 0600 from the moment they exist, folders 0700.
#include "core/files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

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

TEST(Files, AFolderThatCannotBeWrittenIsAnError) {
  auto written = write_file_durably("/proc/esp-no-such/file", "x");
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().code, Code::kUnavailable);
}

}  // namespace
}  // namespace esp
