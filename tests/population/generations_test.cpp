// The generation use cases against the embedded store (SQLite in a temporary folder):
// submitting is idempotent, waiting honours its deadline, cancelling ends a queued job,
// a job too big for the server is refused, and a running job's lease is renewed while
// it runs, so no other worker takes it.
#include "population/generations.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
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
  boost::asio::thread_pool pool{2};
  static GenerationRequest seed_request(const std::string& experiment) {
    return {.experiment_id = experiment, .params_json = fixture()};
  }
};

// The job as when_ended hands it over.
Result<store::Job> wait(Generations& generations, const Caller& caller, const std::string& job_id,
                        std::chrono::steady_clock::duration patience) {
  std::promise<Result<store::Job>> ended;
  generations.when_ended(caller, job_id, std::chrono::steady_clock::now() + patience,
                         [&ended](Result<store::Job> job) { ended.set_value(std::move(job)); });
  return ended.get_future().get();
}

const Caller kAlice{.subject = "alice", .admin = false};

// Alice's seed generation of `experiment`, bred by a worker of its own: the ended job.
store::Job seed_bred(EmbeddedStore& s, Generations& generations, const std::string& experiment) {
  Workers workers(s.store, s.board, s.fresh, {.workers = 1, .poll = milliseconds(20)});
  workers.start();
  auto job = generations.submit(kAlice, s.seed_request(experiment));
  if (!job.ok()) {
    ADD_FAILURE() << job.error().message;
    return {};
  }
  auto ended = wait(generations, kAlice, job->id, std::chrono::seconds(20));
  workers.stop();
  if (!ended.ok() || ended->status != store::JobStatus::kSucceeded) {
    ADD_FAILURE() << "the seed generation did not succeed";
    return {};
  }
  return *ended;
}

TEST(Generations, TheSameRequestIsTheSameJobAndWaitingEndsAtItsDeadline) {
  EmbeddedStore s;
  Generations generations(s.store, s.board, s.fresh, s.pool);
  auto first = generations.submit(kAlice, s.seed_request("e"));
  auto again = generations.submit(kAlice, s.seed_request("e"));
  ASSERT_TRUE(first.ok() && again.ok())
      << (first.ok() ? again.error().message : first.error().message);
  EXPECT_EQ(first->id, again->id);
  // No worker runs it: the wait ends at its deadline with the job as it stands.
  const auto started = std::chrono::steady_clock::now();
  auto waited = wait(generations, kAlice, first->id, milliseconds(100));
  ASSERT_TRUE(waited.ok()) << waited.error().message;
  EXPECT_EQ(waited->status, store::JobStatus::kQueued);
  EXPECT_GE(std::chrono::steady_clock::now() - started, milliseconds(100));
  // The synchronous contract's wait says so as an error.
  std::promise<Result<Generations::Ended>> bred;
  generations.when_bred(
      kAlice, first->id, std::chrono::steady_clock::now() + milliseconds(50),
      [&bred](Result<Generations::Ended> ended) { bred.set_value(std::move(ended)); });
  auto not_bred = bred.get_future().get();
  ASSERT_FALSE(not_bred.ok());
  EXPECT_EQ(not_bred.error().code, Code::kDeadlineExceeded);
  EXPECT_NE(not_bred.error().message.find("still queued"), std::string::npos);
}

TEST(Generations, CancellingAQueuedJobEndsItAndOnlyItsOwnerMay) {
  EmbeddedStore s;
  Generations generations(s.store, s.board, s.fresh, s.pool);
  auto job = generations.submit(kAlice, s.seed_request("e"));
  ASSERT_TRUE(job.ok());
  auto by_other = generations.cancel({.subject = "mallory"}, job->id);
  ASSERT_FALSE(by_other.ok());
  EXPECT_EQ(by_other.error().code, Code::kNotFound);  // never a hint that it exists
  auto cancelled = generations.cancel(kAlice, job->id);
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->status, store::JobStatus::kCancelled);
  auto waited = wait(generations, kAlice, job->id, milliseconds(100));
  ASSERT_TRUE(waited.ok());
  EXPECT_EQ(waited->status, store::JobStatus::kCancelled);
}

TEST(Generations, TheFirstRequestCreatesTheExperimentAndMustCarryItsParams) {
  EmbeddedStore s;
  Generations generations(s.store, s.board, s.fresh, s.pool);
  auto without = generations.submit(kAlice, {.experiment_id = "new"});
  ASSERT_FALSE(without.ok());
  EXPECT_EQ(without.error().code, Code::kNotFound);
  ASSERT_TRUE(generations.submit(kAlice, s.seed_request("new")).ok());
  ASSERT_TRUE(s.store.experiments->find("alice", "new")->has_value());
  // Later requests may leave the parameters out: the stored ones are used.
  auto later = generations.submit(kAlice, {.experiment_id = "new"});
  ASSERT_TRUE(later.ok()) << later.error().message;
  EXPECT_EQ(later->params_json, fixture());
}

TEST(Generations, InvalidParametersComeBackAsIssuesWithPaths) {
  EmbeddedStore s;
  Generations generations(s.store, s.board, s.fresh, s.pool);
  auto request = s.seed_request("bad");
  request.params_json = R"({"evolution": {"population_size": 0}})";
  auto refused = generations.submit(kAlice, request);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Code::kInvalidArgument);
  bool named = false;
  for (const auto& issue : refused.error().issues)
    named = named || issue.path == "evolution.population_size";
  EXPECT_TRUE(named);
  EXPECT_FALSE(s.store.experiments->find("alice", "bad")->has_value());
}

TEST(Generations, OnlyAnAdminReadsAnotherOwnersCheckpoint) {
  EmbeddedStore s;
  Generations generations(s.store, s.board, s.fresh, s.pool);
  const auto ended = seed_bred(s, generations, "e");
  EXPECT_EQ(ended.result_generation, 1);
  const std::string checkpoint = ended.result_checkpoint;
  EXPECT_TRUE(
      generations.checkpoint({.subject = "root", .admin = true}, "alice", "e", checkpoint).ok());
  auto named = generations.checkpoint({.subject = "bob"}, "alice", "e", checkpoint);
  ASSERT_FALSE(named.ok());
  EXPECT_EQ(named.error().code, Code::kPermissionDenied);
  auto own = generations.checkpoint({.subject = "bob"}, std::nullopt, "e", checkpoint);
  ASSERT_FALSE(own.ok());
  EXPECT_EQ(own.error().code, Code::kNotFound);
}

TEST(Generations, ACheckpointTooBigToAnswerHereIsRefusedNamingBothSizes) {
  EmbeddedStore s;
  Generations roomy(s.store, s.board, s.fresh, s.pool);
  const auto ended = seed_bred(s, roomy, "e");
  // A replica with less memory than the one that bred it.
  Generations small(s.store, s.board, s.fresh, s.pool, {.max_memory_bytes = 4 << 10});
  auto refused = small.checkpoint(kAlice, std::nullopt, "e", ended.result_checkpoint);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Code::kResourceExhausted);
  EXPECT_NE(refused.error().message.find("over this server's 4.0 KiB"), std::string::npos)
      << refused.error().message;
  EXPECT_TRUE(roomy.checkpoint(kAlice, std::nullopt, "e", ended.result_checkpoint).ok());
}

TEST(Generations, AJobTooBigForTheServerIsRefusedAndNothingIsQueued) {
  EmbeddedStore s;
  // The fixture's generation needs about 40 KiB.
  Generations generations(s.store, s.board, s.fresh, s.pool, {.max_memory_bytes = 16 << 10});
  auto refused = generations.submit(kAlice, s.seed_request("e"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Code::kResourceExhausted);
  EXPECT_FALSE(s.store.jobs->claim("w", milliseconds(1000), 3)->has_value());
}

TEST(Workers, ALongJobKeepsItsLeaseSoNoOtherWorkerTakesIt) {
  EmbeddedStore s;
  Generations generations(s.store, s.board, s.fresh, s.pool);
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
  auto ended = wait(generations, kAlice, job->id, std::chrono::seconds(20));
  ASSERT_TRUE(ended.ok()) << ended.error().message;
  EXPECT_EQ(ended->status, store::JobStatus::kSucceeded);
  EXPECT_EQ(ended->attempts, 1);
  workers.stop();
}

}  // namespace
}  // namespace esp::population
