// Generation workers against the embedded store: whatever a job throws fails that job
// with its reason, and the worker goes on with the next one.
#include "population/workers.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <new>
#include <stdexcept>

namespace esp::population {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

struct TempFolder {
  fs::path path = fs::temp_directory_path() / ("workers-test-" + std::to_string(::getpid()));
  TempFolder() {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempFolder() { fs::remove_all(path); }
};

store::Job job(const std::string& id) {
  return {.id = id,
          .owner = "alice",
          .experiment_id = "e",
          .idempotency_key = id,
          .params_json = "{}",
          .created_at = store::unix_millis()};
}

// Fails op_oom as an exhausted allocator would, throws a plain error for op_throw, and
// makes a checkpoint for anything else.
Result<store::Checkpoint> runner(store::Store&, const store::Job& job, unsigned, RecentPopulations&,
                                 FreshPopulations&, JobReport&) {
  if (job.id == "op_oom") throw std::bad_alloc();
  if (job.id == "op_throw") throw std::runtime_error("boom");
  return store::Checkpoint{.owner = job.owner,
                           .experiment_id = job.experiment_id,
                           .checkpoint_id = "e/1/" + job.id,
                           .generation = 1,
                           .job_id = job.id,
                           .blob_key = "checkpoints/" + job.id + ".pb",
                           .params_json = job.params_json,
                           .created_at = store::unix_millis()};
}

store::Job ended(store::Store& store, JobBoard& board, const std::string& id) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (;;) {
    const auto seen = board.ended_count();
    auto found = store.jobs->find(id);
    EXPECT_TRUE(found.ok() && found->has_value());
    const auto status = (*found)->status;
    if (status != store::JobStatus::kQueued && status != store::JobStatus::kRunning) return **found;
    if (std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << id << " did not end";
      return **found;
    }
    board.wait_for_ended(seen, std::chrono::steady_clock::now() + milliseconds(100));
  }
}

TEST(Workers, AJobThatThrowsFailsWithItsReasonAndTheWorkerGoesOn) {
  TempFolder folder;
  auto store = store::open({.data_dir = folder.path}).value();
  JobBoard board;
  FreshPopulations fresh;
  Workers workers(store, board, fresh,
                  {.workers = 1, .heartbeat = milliseconds(50), .poll = milliseconds(20)}, runner);
  workers.start();
  for (const char* id : {"op_oom", "op_throw", "op_fine"}) {
    ASSERT_TRUE(store.jobs->enqueue(job(id)).ok());
    board.job_queued();
  }

  const auto oom = ended(store, board, "op_oom");
  EXPECT_EQ(oom.status, store::JobStatus::kFailed);
  EXPECT_NE(oom.error.find("ran out of memory"), std::string::npos) << oom.error;
  const auto thrown = ended(store, board, "op_throw");
  EXPECT_EQ(thrown.status, store::JobStatus::kFailed);
  EXPECT_EQ(thrown.error, "the generation failed: boom");
  const auto fine = ended(store, board, "op_fine");
  EXPECT_EQ(fine.status, store::JobStatus::kSucceeded);
  EXPECT_EQ(fine.result_checkpoint, "e/1/op_fine");
  EXPECT_EQ(workers.alive(), 1U);
  workers.stop();
}

}  // namespace
}  // namespace esp::population
