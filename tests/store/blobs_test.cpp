// Checkpoint payloads as files: read whole, or mapped where they lie.
#include "store/blobs.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace esp::store {
namespace {

namespace fs = std::filesystem;

// Whether `at` lies in a mapping of `file` (/proc/self/maps: "start-end perms offset dev
// inode path").
bool mapped_from(const void* at, const fs::path& file) {
  std::ifstream maps("/proc/self/maps");
  const auto address = reinterpret_cast<std::uintptr_t>(at);
  for (std::string line; std::getline(maps, line);) {
    if (!line.ends_with(fs::canonical(file).string())) continue;
    std::istringstream range(line);
    std::uintptr_t start = 0;
    std::uintptr_t end = 0;
    char dash = 0;
    range >> std::hex >> start >> dash >> end;
    if (address >= start && address < end) return true;
  }
  return false;
}

class Files : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("esp-blobs-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

TEST_F(Files, AViewIsTheBytesStoredWithoutReadingThemIntoAString) {
  FileBlobs blobs(root_);
  const std::string payload(3 << 20, 'p');
  ASSERT_TRUE(blobs.put("checkpoints/a/1.pb", payload).ok());
  auto view = blobs.view("checkpoints/a/1.pb");
  ASSERT_TRUE(view.ok()) << view.error().message;
  EXPECT_EQ(view->bytes, payload);
  EXPECT_EQ(view->bytes, *blobs.get("checkpoints/a/1.pb"));
  EXPECT_TRUE(mapped_from(view->bytes.data(), root_ / "checkpoints/a/1.pb"));
}

// A replica answers from a checkpoint while a late worker writes the same key again, or
// retention deletes it: what it holds stays what it read.
TEST_F(Files, AViewHeldStaysWhatItWasWhenTheBlobIsReplacedOrRemoved) {
  FileBlobs blobs(root_);
  ASSERT_TRUE(blobs.put("checkpoints/a/1.pb", std::string(1 << 20, 'a')).ok());
  auto view = blobs.view("checkpoints/a/1.pb");
  ASSERT_TRUE(view.ok());
  ASSERT_TRUE(blobs.put("checkpoints/a/1.pb", "b").ok());
  EXPECT_EQ(*blobs.get("checkpoints/a/1.pb"), "b");
  ASSERT_TRUE(blobs.remove("checkpoints/a/1.pb").ok());
  EXPECT_EQ(view->bytes, std::string(1 << 20, 'a'));
}

TEST_F(Files, AMissingOrEmptyBlobAndABadKeyAreTold) {
  FileBlobs blobs(root_);
  auto missing = blobs.view("checkpoints/none.pb");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Code::kNotFound);
  ASSERT_TRUE(blobs.put("inputs/empty", "").ok());
  auto empty = blobs.view("inputs/empty");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->bytes.empty());
  auto outside = blobs.view("../etc/passwd");
  ASSERT_FALSE(outside.ok());
  EXPECT_EQ(outside.error().code, Code::kInvalidArgument);
}

}  // namespace
}  // namespace esp::store
