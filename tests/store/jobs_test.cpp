// The embedded store's job queue: idempotent enqueue, leases, and exactly-once results.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "store/embedded.h"

namespace esp::store {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

struct TempStore {
  fs::path folder =
      fs::temp_directory_path() / ("store-test-" + std::to_string(::getpid()) + "-" +
                                   ::testing::UnitTest::GetInstance()->current_test_info()->name());
  Store store = [this] {
    fs::remove_all(folder);
    fs::create_directories(folder);
    return open_embedded(folder).value();
  }();
  ~TempStore() { fs::remove_all(folder); }
};

Job job(const std::string& id, const std::string& key) {
  return {.id = id,
          .owner = "alice",
          .experiment_id = "e",
          .idempotency_key = key,
          .params_json = "{}",
          .created_at = unix_millis()};
}

Checkpoint checkpoint_for(const std::string& job_id, const std::string& checkpoint_id) {
  return {.owner = "alice",
          .experiment_id = "e",
          .checkpoint_id = checkpoint_id,
          .generation = 1,
          .job_id = job_id,
          .blob_key = "checkpoints/x.pb",
          .params_json = "{}",
          .created_at = unix_millis()};
}

TEST(Jobs, TheSameRequestKeyGivesTheSameJob) {
  TempStore t;
  auto first = t.store.jobs->enqueue(job("op_1", "key"));
  auto second = t.store.jobs->enqueue(job("op_2", "key"));
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(second->id, "op_1");
  EXPECT_EQ(second->status, JobStatus::kQueued);
}

TEST(Jobs, EachJobIsClaimedByOneWorkerWhileItsLeaseLasts) {
  TempStore t;
  ASSERT_TRUE(t.store.jobs->enqueue(job("op_1", "k1")).ok());
  auto claimed = t.store.jobs->claim("w1", milliseconds(60'000));
  ASSERT_TRUE(claimed.ok() && claimed->has_value());
  EXPECT_EQ((*claimed)->status, JobStatus::kRunning);
  EXPECT_EQ((*claimed)->attempts, 1);
  auto nothing = t.store.jobs->claim("w2", milliseconds(60'000));
  ASSERT_TRUE(nothing.ok());
  EXPECT_FALSE(nothing->has_value());
  EXPECT_TRUE(*t.store.jobs->heartbeat("op_1", "w1", milliseconds(60'000)));
  EXPECT_FALSE(*t.store.jobs->heartbeat("op_1", "w2", milliseconds(60'000)));
}

TEST(Jobs, AnExpiredLeaseIsClaimedAgainAndOnlyTheHolderFinishes) {
  TempStore t;
  ASSERT_TRUE(t.store.jobs->enqueue(job("op_1", "k1")).ok());
  ASSERT_TRUE(t.store.jobs->claim("dead-worker", milliseconds(1))->has_value());
  std::this_thread::sleep_for(milliseconds(5));  // let the 1 ms lease lapse (not synchronisation)
  auto again = t.store.jobs->claim("w2", milliseconds(60'000));
  ASSERT_TRUE(again.ok() && again->has_value());
  EXPECT_EQ((*again)->attempts, 2);
  EXPECT_FALSE(*t.store.jobs->succeed("op_1", "dead-worker", checkpoint_for("op_1", "e/1/a")));
  EXPECT_TRUE(*t.store.jobs->succeed("op_1", "w2", checkpoint_for("op_1", "e/1/b")));
  auto done = t.store.jobs->find("op_1");
  EXPECT_EQ((*done)->status, JobStatus::kSucceeded);
  EXPECT_EQ((*done)->result_checkpoint, "e/1/b");
  auto recorded = t.store.checkpoints->find_by_job("op_1");
  ASSERT_TRUE(recorded.ok() && recorded->has_value());
  EXPECT_EQ((*recorded)->checkpoint_id, "e/1/b");
  EXPECT_FALSE(t.store.checkpoints->find("alice", "e/1/a")->has_value());
  EXPECT_FALSE(
      t.store.jobs->claim("w3", milliseconds(1))->has_value());  // finished jobs stay finished
}

TEST(Blobs, WritesAtomicallyAndRefusesKeysOutsideTheRoot) {
  TempStore t;
  ASSERT_TRUE(t.store.blobs->put("checkpoints/a/b.pb", "first").ok());
  ASSERT_TRUE(t.store.blobs->put("checkpoints/a/b.pb", "second").ok());
  EXPECT_EQ(*t.store.blobs->get("checkpoints/a/b.pb"), "second");
  EXPECT_FALSE(t.store.blobs->put("../escape", "x").ok());
  EXPECT_FALSE(t.store.blobs->put("/etc/passwd", "x").ok());
  EXPECT_EQ(t.store.blobs->get("missing").error().code, Code::kNotFound);
  for (const auto& entry : fs::recursive_directory_iterator(t.folder / "blobs")) {
    EXPECT_EQ(entry.path().string().find(".tmp."), std::string::npos) << entry.path();
  }
}

TEST(Experiments, CreatedOncePerOwnerAndId) {
  TempStore t;
  auto made = t.store.experiments->create_if_absent({"alice", "e", "{\"a\":1}", 1});
  auto again = t.store.experiments->create_if_absent({"alice", "e", "{\"a\":2}", 2});
  auto other = t.store.experiments->create_if_absent({"bob", "e", "{\"b\":1}", 3});
  EXPECT_EQ(again->params_json, "{\"a\":1}");
  EXPECT_EQ(other->params_json, "{\"b\":1}");
  EXPECT_FALSE(t.store.experiments->find("carol", "e")->has_value());
}

}  // namespace
}  // namespace esp::store
