// The generation use cases against the embedded store (SQLite in a temporary folder):
// submitting is idempotent, waiting honours its deadline, cancelling ends a queued job,
// a job too big for the server is refused, and a running job's lease is renewed while
// it runs, so no other worker takes it.
#include "population/generations.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "population/workers.h"

namespace esp::population {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

std::string fixture() {
  std::ifstream file(std::string(ESP_FIXTURES_DIR) + "/experiment.json");
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

struct EmbeddedStore {
  fs::path folder = fs::temp_directory_path() / ("generations-test-" + std::to_string(::getpid()));
  store::Store store;
  JobBoard board;
  FreshPopulations fresh;
  EmbeddedStore() {
    fs::remove_all(folder);
    fs::create_directories(folder);
    store = store::open({.data_dir = folder}).value();
  }
  ~EmbeddedStore() {
    store = store::Store{};
    fs::remove_all(folder);
  }
  ::population::PopulationRequest seed_request(const std::string& experiment) const {
    ::population::PopulationRequest request;
    request.set_version("v1");
    request.set_experiment_id(experiment);
    request.set_config(fixture());
    return request;
  }
};

const Caller kAlice{.subject = "alice", .admin = false};

TEST(Generations, TheSameRequestIsTheSameJobAndWaitingEndsAtItsDeadline) {
  EmbeddedStore s;
  Generations generations(s.store, s.board, s.fresh);
  auto first = generations.submit(kAlice, s.seed_request("e"));
  auto again = generations.submit(kAlice, s.seed_request("e"));
  ASSERT_TRUE(first.ok() && again.ok())
      << (first.ok() ? again.error().message : first.error().message);
  EXPECT_EQ(first->id, again->id);
  // No worker runs it: the wait ends at its deadline, saying where the job stands.
  auto waited = generations.wait(first->id, std::chrono::steady_clock::now() + milliseconds(100));
  ASSERT_FALSE(waited.ok());
  EXPECT_EQ(waited.error().code, Code::kDeadlineExceeded);
  EXPECT_NE(waited.error().message.find("still queued"), std::string::npos);
}

TEST(Generations, CancellingAQueuedJobEndsItAndOnlyItsOwnerMay) {
  EmbeddedStore s;
  Generations generations(s.store, s.board, s.fresh);
  auto job = generations.submit(kAlice, s.seed_request("e"));
  ASSERT_TRUE(job.ok());
  auto by_other = generations.cancel({.subject = "mallory"}, job->id);
  ASSERT_FALSE(by_other.ok());
  EXPECT_EQ(by_other.error().code, Code::kNotFound);  // never a hint that it exists
  auto cancelled = generations.cancel(kAlice, job->id);
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->status, store::JobStatus::kCancelled);
  auto waited = generations.wait(job->id, std::chrono::steady_clock::now() + milliseconds(100));
  ASSERT_TRUE(waited.ok());
  EXPECT_EQ(waited->status, store::JobStatus::kCancelled);
}

TEST(Generations, AJobTooBigForTheServerIsRefusedAndNothingIsQueued) {
  EmbeddedStore s;
  // The fixture's generation needs about 40 KiB.
  Generations generations(s.store, s.board, s.fresh, {.max_memory_bytes = 16 << 10});
  auto refused = generations.submit(kAlice, s.seed_request("e"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Code::kResourceExhausted);
  EXPECT_FALSE(s.store.jobs->claim("w", milliseconds(1000), 3)->has_value());
}

TEST(Workers, ALongJobKeepsItsLeaseSoNoOtherWorkerTakesIt) {
  EmbeddedStore s;
  Generations generations(s.store, s.board, s.fresh);
  std::atomic<bool> running{false};
  auto slow = [&](store::Store& store, const store::Job& job, unsigned threads,
                  RecentPopulations& recent, FreshPopulations& fresh, JobTimings& timings) {
    running = true;
    std::this_thread::sleep_for(milliseconds(1500));  // five leases long
    return run_generation_job(store, job, threads, recent, fresh, timings);
  };
  Workers workers(s.store, s.board, s.fresh,
                  {.workers = 1,
                   .lease = milliseconds(300),
                   .heartbeat = milliseconds(100),
                   .poll = milliseconds(20),
                   .replica = "r1"},
                  slow);
  workers.start();
  auto job = generations.submit(kAlice, s.seed_request("e"));
  ASSERT_TRUE(job.ok());
  s.board.job_queued();
  while (!running)
    std::this_thread::sleep_for(milliseconds(10));
  for (int i = 0; i < 10; ++i) {  // over a second of another replica trying
    EXPECT_FALSE(s.store.jobs->claim("r2/0", milliseconds(300), 3)->has_value());
    std::this_thread::sleep_for(milliseconds(120));
  }
  auto ended =
      generations.wait(job->id, std::chrono::steady_clock::now() + std::chrono::seconds(20));
  ASSERT_TRUE(ended.ok()) << ended.error().message;
  EXPECT_EQ(ended->status, store::JobStatus::kSucceeded);
  EXPECT_EQ(ended->attempts, 1);
  workers.stop();
}

}  // namespace
}  // namespace esp::population
