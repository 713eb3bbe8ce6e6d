// The embedded store's job queue: idempotent enqueue, leases, and exactly-once results.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <pqxx/pqxx>
#include <thread>

#include "store/embedded.h"
#include "store/postgres.h"

namespace esp::store {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
// Runs of a job before it fails for good, for tests that are not about that limit.
constexpr int kAttempts = 3;

// A fresh store per test: SQLite in a temporary folder, or a new database on the
// PostgreSQL server the test run started (in ESP_TEST_SERVERS_DIR/test-postgres).
struct TempStore {
  explicit TempStore(const std::string& backend) : backend_(backend) {
    fs::remove_all(folder);
    fs::create_directories(folder);
    if (backend == "sqlite") {
      store = open_embedded(folder).value();
      return;
    }
    const char* servers = std::getenv("ESP_TEST_SERVERS_DIR");
    if (servers == nullptr) throw std::runtime_error("ESP_TEST_SERVERS_DIR is not set");
    const std::string url_file = std::string(servers) + "/test-postgres/url";
    std::ifstream file(url_file);
    std::getline(file, admin_url_);
    if (admin_url_.empty()) throw std::runtime_error("no server URL in " + url_file);
    database_ = "t" + std::to_string(::getpid()) + "_" + test_name();
    pqxx::connection admin(admin_url_);
    pqxx::nontransaction(admin).exec("CREATE DATABASE " + database_);
    const auto slash = admin_url_.rfind('/');
    auto opened = open_postgres({.url = admin_url_.substr(0, slash + 1) + database_,
                                 .pool_size = 4,
                                 .blobs_dir = folder / "blobs"});
    if (!opened.ok()) throw std::runtime_error(opened.error().message);
    store = std::move(*opened);
  }
  ~TempStore() {
    store = Store{};
    if (!database_.empty()) {
      pqxx::connection admin(admin_url_);
      pqxx::nontransaction(admin).exec("DROP DATABASE " + database_ + " WITH (FORCE)");
    }
    fs::remove_all(folder);
  }
  static std::string test_name() {
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) {
      return std::isalnum(c) ? static_cast<char>(std::tolower(c)) : '_';
    });
    return name.substr(0, 40);
  }

  std::string backend_;
  fs::path folder =
      fs::temp_directory_path() / ("store-test-" + std::to_string(::getpid()) + "-" + test_name());
  Store store;
  std::string admin_url_;
  std::string database_;
};

// Every test runs against both backends: the use cases rely on the same behaviour.
class Backend : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    // Run by hand without ctest's PostgreSQL fixture: only the SQLite half can run.
    if (GetParam() == "postgres" && std::getenv("ESP_TEST_SERVERS_DIR") == nullptr)
      GTEST_SKIP() << "no PostgreSQL server for this run (ctest starts one)";
  }
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

TEST_P(Backend, Jobs_TheSameRequestKeyGivesTheSameJob) {
  TempStore t(GetParam());
  auto first = t.store.jobs->enqueue(job("op_1", "key"));
  auto second = t.store.jobs->enqueue(job("op_2", "key"));
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(second->id, "op_1");
  EXPECT_EQ(second->status, JobStatus::kQueued);
}

TEST_P(Backend, Jobs_EachJobIsClaimedByOneWorkerWhileItsLeaseLasts) {
  TempStore t(GetParam());
  ASSERT_TRUE(t.store.jobs->enqueue(job("op_1", "k1")).ok());
  auto claimed = t.store.jobs->claim("w1", milliseconds(60'000), kAttempts);
  ASSERT_TRUE(claimed.ok() && claimed->has_value());
  EXPECT_EQ((*claimed)->status, JobStatus::kRunning);
  EXPECT_EQ((*claimed)->attempts, 1);
  auto nothing = t.store.jobs->claim("w2", milliseconds(60'000), kAttempts);
  ASSERT_TRUE(nothing.ok());
  EXPECT_FALSE(nothing->has_value());
  EXPECT_TRUE(*t.store.jobs->heartbeat("op_1", "w1", milliseconds(60'000)));
  EXPECT_FALSE(*t.store.jobs->heartbeat("op_1", "w2", milliseconds(60'000)));
}

TEST_P(Backend, Jobs_AnExpiredLeaseIsClaimedAgainAndOnlyTheHolderFinishes) {
  TempStore t(GetParam());
  ASSERT_TRUE(t.store.jobs->enqueue(job("op_1", "k1")).ok());
  ASSERT_TRUE(t.store.jobs->claim("dead-worker", milliseconds(1), kAttempts)->has_value());
  std::this_thread::sleep_for(milliseconds(5));  // let the 1 ms lease lapse (not synchronisation)
  auto again = t.store.jobs->claim("w2", milliseconds(60'000), kAttempts);
  ASSERT_TRUE(again.ok() && again->has_value());
  EXPECT_EQ((*again)->attempts, 2);
  EXPECT_FALSE(*t.store.jobs->succeed("op_1", "dead-worker", checkpoint_for("op_1", "e/1/a")));
  auto bred = checkpoint_for("op_1", "e/1/b");
  bred.generation = 4;  // recorded with the job, never read out of the id
  EXPECT_TRUE(*t.store.jobs->succeed("op_1", "w2", bred));
  auto done = t.store.jobs->find("op_1");
  EXPECT_EQ((*done)->status, JobStatus::kSucceeded);
  EXPECT_EQ((*done)->result_checkpoint, "e/1/b");
  EXPECT_EQ((*done)->result_generation, 4);
  auto recorded = t.store.checkpoints->find_by_job("op_1");
  ASSERT_TRUE(recorded.ok() && recorded->has_value());
  EXPECT_EQ((*recorded)->checkpoint_id, "e/1/b");
  EXPECT_FALSE(t.store.checkpoints->find("alice", "e/1/a")->has_value());
  EXPECT_FALSE(t.store.jobs->claim("w3", milliseconds(1), kAttempts)
                   ->has_value());  // finished jobs stay finished
}

TEST_P(Backend, Jobs_AJobWhoseProcessDiedMaxAttemptsTimesFailsForGood) {
  TempStore t(GetParam());
  ASSERT_TRUE(t.store.jobs->enqueue(job("op_1", "k1")).ok());
  // op_1 is claimed twice by workers that die (their 1 ms leases lapse).
  for (int attempt = 1; attempt <= 2; ++attempt) {
    auto claimed = t.store.jobs->claim("doomed", milliseconds(1), 2);
    ASSERT_TRUE(claimed.ok() && claimed->has_value());
    EXPECT_EQ((*claimed)->id, "op_1");
    EXPECT_EQ((*claimed)->attempts, attempt);
    std::this_thread::sleep_for(milliseconds(5));  // the lease lapses (not synchronisation)
  }
  // The third claim fails op_1 for good and takes the next job instead.
  ASSERT_TRUE(t.store.jobs->enqueue(job("op_2", "k2")).ok());
  auto next = t.store.jobs->claim("w", milliseconds(60'000), 2);
  ASSERT_TRUE(next.ok() && next->has_value());
  EXPECT_EQ((*next)->id, "op_2");
  auto failed = t.store.jobs->find("op_1");
  ASSERT_TRUE(failed.ok() && failed->has_value());
  EXPECT_EQ((*failed)->status, JobStatus::kFailed);
  EXPECT_EQ((*failed)->attempts, 2);
  EXPECT_EQ((*failed)->error, std::string(kGaveUpBefore) + "2" + std::string(kGaveUpAfter));
  EXPECT_NE((*failed)->finished_at, 0);
  EXPECT_FALSE(*t.store.jobs->succeed("op_1", "doomed", checkpoint_for("op_1", "e/1/late")));
  // A running job whose lease still holds is never given up, whatever its attempts.
  EXPECT_FALSE(t.store.jobs->claim("w2", milliseconds(60'000), 1)->has_value());
  EXPECT_EQ((*t.store.jobs->find("op_2"))->status, JobStatus::kRunning);
}

TEST_P(Backend, Blobs_WritesAtomicallyAndRefusesKeysOutsideTheRoot) {
  TempStore t(GetParam());
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

TEST_P(Backend, Experiments_CreatedOncePerOwnerAndId) {
  TempStore t(GetParam());
  auto made = t.store.experiments->create_if_absent({"alice", "e", "{\"a\":1}", 1});
  auto again = t.store.experiments->create_if_absent({"alice", "e", "{\"a\":2}", 2});
  auto other = t.store.experiments->create_if_absent({"bob", "e", "{\"b\":1}", 3});
  EXPECT_TRUE(made->inserted);
  EXPECT_FALSE(again->inserted);
  EXPECT_TRUE(other->inserted);
  EXPECT_EQ(again->experiment.params_json, "{\"a\":1}");
  EXPECT_EQ(other->experiment.params_json, "{\"b\":1}");
  EXPECT_FALSE(t.store.experiments->find("carol", "e")->has_value());
}

TEST_P(Backend, Jobs_ACancelledJobIsNeverClaimedAndALateResultIsRefused) {
  TempStore t(GetParam());
  ASSERT_TRUE(t.store.jobs->enqueue(job("op_1", "k1")).ok());
  ASSERT_TRUE(t.store.jobs->enqueue(job("op_2", "k2")).ok());
  ASSERT_TRUE(
      t.store.jobs->claim("w1", milliseconds(60'000), kAttempts)->has_value());  // op_1 runs
  auto running = t.store.jobs->cancel("op_1");
  auto queued = t.store.jobs->cancel("op_2");
  ASSERT_TRUE(running.ok() && queued.ok());
  EXPECT_EQ((*running)->status, JobStatus::kCancelled);
  EXPECT_EQ((*queued)->status, JobStatus::kCancelled);
  EXPECT_GT((*queued)->finished_at, 0);
  EXPECT_FALSE(*t.store.jobs->succeed("op_1", "w1", checkpoint_for("op_1", "e/1/a")));
  EXPECT_FALSE(t.store.checkpoints->find_by_job("op_1")->has_value());
  EXPECT_FALSE(t.store.jobs->claim("w2", milliseconds(60'000), kAttempts)->has_value());
  EXPECT_FALSE(t.store.jobs->cancel("op_missing")->has_value());
}

TEST_P(Backend, Jobs_CancellingAnEndedJobLeavesItAsItWas) {
  TempStore t(GetParam());
  ASSERT_TRUE(t.store.jobs->enqueue(job("op_1", "k1")).ok());
  ASSERT_TRUE(t.store.jobs->claim("w1", milliseconds(60'000), kAttempts)->has_value());
  ASSERT_TRUE(*t.store.jobs->succeed("op_1", "w1", checkpoint_for("op_1", "e/1/a")));
  auto after = t.store.jobs->cancel("op_1");
  ASSERT_TRUE(after.ok() && after->has_value());
  EXPECT_EQ((*after)->status, JobStatus::kSucceeded);
  EXPECT_EQ((*after)->result_checkpoint, "e/1/a");
}

TEST_P(Backend, Jobs_SendingAFailedOrCancelledRequestAgainQueuesTheSameJob) {
  TempStore t(GetParam());
  ASSERT_TRUE(t.store.jobs->enqueue(job("op_1", "k1")).ok());
  ASSERT_TRUE(t.store.jobs->claim("w1", milliseconds(60'000), kAttempts)->has_value());
  ASSERT_TRUE(*t.store.jobs->fail("op_1", "w1", Error{Code::kInternal, "engine said no"}));
  auto retried = t.store.jobs->enqueue(job("op_9", "k1"));
  ASSERT_TRUE(retried.ok());
  EXPECT_EQ(retried->id, "op_1");
  EXPECT_EQ(retried->status, JobStatus::kQueued);
  EXPECT_EQ(retried->error, "");
  EXPECT_EQ(retried->started_at, 0);
  ASSERT_TRUE(t.store.jobs->cancel("op_1")->has_value());
  EXPECT_EQ(t.store.jobs->enqueue(job("op_9", "k1"))->status, JobStatus::kQueued);
  auto claimed = t.store.jobs->claim("w2", milliseconds(60'000), kAttempts);
  ASSERT_TRUE(claimed.ok() && claimed->has_value());
  EXPECT_EQ((*claimed)->attempts, 2);
}

TEST_P(Backend, Jobs_AFailedJobKeepsItsErrorsCodeUntilItIsQueuedAgain) {
  TempStore t(GetParam());
  ASSERT_TRUE(t.store.jobs->enqueue(job("op_1", "k1")).ok());
  ASSERT_TRUE(t.store.jobs->claim("w1", milliseconds(60'000), kAttempts)->has_value());
  ASSERT_TRUE(*t.store.jobs->fail("op_1", "w1", Error{Code::kInvalidArgument, "metrics for 3_9"}));
  auto failed = t.store.jobs->find("op_1");
  ASSERT_TRUE(failed.ok() && failed->has_value());
  EXPECT_EQ((*failed)->status, JobStatus::kFailed);
  EXPECT_EQ((*failed)->error_code, Code::kInvalidArgument);
  EXPECT_EQ((*failed)->error, "metrics for 3_9");
  auto retried = t.store.jobs->enqueue(job("op_9", "k1"));
  ASSERT_TRUE(retried.ok());
  EXPECT_EQ(retried->error_code, Code::kInternal);
}

TEST_P(Backend, Blobs_RemovingIsIdempotent) {
  TempStore t(GetParam());
  ASSERT_TRUE(t.store.blobs->put("inputs/a.json", "{}").ok());
  EXPECT_TRUE(t.store.blobs->remove("inputs/a.json").ok());
  EXPECT_EQ(t.store.blobs->get("inputs/a.json").error().code, Code::kNotFound);
  EXPECT_TRUE(t.store.blobs->remove("inputs/a.json").ok());
  EXPECT_FALSE(t.store.blobs->remove("../esp.db").ok());
}

TEST_P(Backend, Experiments_ListPageByPageInCreationOrder) {
  TempStore t(GetParam());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(
        t.store.experiments->create_if_absent({"alice", "e" + std::to_string(i), "{}", i}).ok());
    ASSERT_TRUE(
        t.store.experiments->create_if_absent({"bob", "b" + std::to_string(i), "{}", i}).ok());
  }
  std::vector<std::string> seen;
  PageRequest page{.limit = 2};
  int pages = 0;
  do {
    auto listed = t.store.experiments->list("alice", page);
    ASSERT_TRUE(listed.ok()) << listed.error().message;
    for (const auto& e : listed->items)
      seen.push_back(e.id);
    page.after = listed->next;
    ++pages;
  } while (!page.after.empty());
  EXPECT_EQ(seen, (std::vector<std::string>{"e0", "e1", "e2", "e3", "e4"}));
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(t.store.experiments->list("", {.limit = 100})->items.size(), 10U);
  EXPECT_EQ(t.store.experiments->list("alice", {.after = "x1"}).error().code,
            Code::kInvalidArgument);
}

TEST_P(Backend, Experiments_RemovingTakesItsCheckpointsAndJobsAndNamesTheirBlobs) {
  TempStore t(GetParam());
  ASSERT_TRUE(t.store.experiments->create_if_absent({"alice", "e", "{}", 1}).ok());
  ASSERT_TRUE(t.store.experiments->create_if_absent({"alice", "kept", "{}", 1}).ok());
  auto with_input = job("op_1", "k1");
  with_input.input_blob_key = "inputs/k1.json";
  ASSERT_TRUE(t.store.jobs->enqueue(with_input).ok());
  auto kept_job = job("op_2", "k2");
  kept_job.experiment_id = "kept";
  ASSERT_TRUE(t.store.jobs->enqueue(kept_job).ok());
  ASSERT_TRUE(t.store.jobs->claim("w1", milliseconds(60'000), kAttempts)->has_value());
  ASSERT_TRUE(*t.store.jobs->succeed("op_1", "w1", checkpoint_for("op_1", "e/1/a")));

  auto removed = t.store.experiments->remove("alice", "e");
  ASSERT_TRUE(removed.ok() && removed->has_value());
  auto keys = (*removed)->blob_keys;
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{"checkpoints/x.pb", "inputs/k1.json"}));
  EXPECT_FALSE(t.store.experiments->find("alice", "e")->has_value());
  EXPECT_FALSE(t.store.checkpoints->find("alice", "e/1/a")->has_value());
  EXPECT_FALSE(t.store.jobs->find("op_1")->has_value());
  EXPECT_TRUE(t.store.jobs->find("op_2")->has_value());
  EXPECT_TRUE(t.store.experiments->find("alice", "kept")->has_value());
  EXPECT_FALSE(t.store.experiments->remove("alice", "e")->has_value());
}

// Generations 1 to 3 of alice's experiment "e", each job run and its checkpoint
// "e/<generation>/t" recorded; from the second on with a summary {"fronts": generation}.
void record_three_generations(TempStore& t) {
  for (int generation = 1; generation <= 3; ++generation) {
    const std::string id = "op_" + std::to_string(generation);
    ASSERT_TRUE(t.store.jobs->enqueue(job(id, id)).ok());
    ASSERT_TRUE(t.store.jobs->claim("w", milliseconds(60'000), kAttempts)->has_value());
    auto checkpoint = checkpoint_for(id, "e/" + std::to_string(generation) + "/t");
    checkpoint.generation = generation;
    if (generation > 1) checkpoint.stats_json = R"({"fronts":)" + std::to_string(generation) + "}";
    ASSERT_TRUE(*t.store.jobs->succeed(id, "w", checkpoint));
  }
}

TEST_P(Backend, Checkpoints_ListedPerExperimentWithTheNewestAsLatest) {
  TempStore t(GetParam());
  EXPECT_FALSE(t.store.checkpoints->latest("alice", "e")->has_value());
  record_three_generations(t);
  auto listed = t.store.checkpoints->list("alice", "e", {.limit = 10});
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->items.size(), 3U);
  EXPECT_EQ(listed->items.front().checkpoint_id, "e/1/t");
  EXPECT_TRUE(listed->next.empty());
  EXPECT_EQ((*t.store.checkpoints->latest("alice", "e"))->checkpoint_id, "e/3/t");
  EXPECT_TRUE(t.store.checkpoints->list("bob", "e", {.limit = 10})->items.empty());
}

TEST_P(Backend, Checkpoints_SummariesComeByGenerationInOneListing) {
  TempStore t(GetParam());
  record_three_generations(t);
  auto summaries = t.store.checkpoints->summaries("alice", "e");
  ASSERT_TRUE(summaries.ok()) << summaries.error().message;
  ASSERT_EQ(summaries->size(), 3U);
  EXPECT_EQ((*summaries)[0].stats_json, "");  // the seed was bred from nothing
  EXPECT_EQ((*summaries)[2].stats_json, R"({"fronts":3})");
  EXPECT_EQ((*summaries)[2].checkpoint_id, "e/3/t");
  EXPECT_EQ((*t.store.checkpoints->find("alice", "e/2/t"))->stats_json, R"({"fronts":2})");
  EXPECT_TRUE(t.store.checkpoints->summaries("bob", "e")->empty());
}

TEST_P(Backend, Jobs_ListedPerExperimentNewestFirstPageByPage) {
  TempStore t(GetParam());
  for (int i = 1; i <= 5; ++i) {
    const std::string id = "op_" + std::to_string(i);
    ASSERT_TRUE(t.store.jobs->enqueue(job(id, id)).ok());
  }
  auto other = job("theirs", "theirs");
  other.owner = "bob";
  ASSERT_TRUE(t.store.jobs->enqueue(other).ok());
  std::vector<std::string> seen;
  PageRequest page{.limit = 2};
  for (int pages = 0; pages < 5; ++pages) {
    auto listed = t.store.jobs->list("alice", "e", page);
    ASSERT_TRUE(listed.ok()) << listed.error().message;
    for (const auto& j : listed->items)
      seen.push_back(j.id);
    if (listed->next.empty()) break;
    page.after = listed->next;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"op_5", "op_4", "op_3", "op_2", "op_1"}));
  EXPECT_FALSE(t.store.jobs->list("alice", "e", {.after = "nonsense", .limit = 2}).ok());
}

// What a database restart does to espd's connections, without restarting the server the
// other tests share: the server ends every session of the test's database.
class Postgres : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::getenv("ESP_TEST_SERVERS_DIR") == nullptr)
      GTEST_SKIP() << "no PostgreSQL server for this run (ctest starts one)";
    store_.emplace("postgres");
  }
  // The store's sessions (autovacuum workers show in pg_stat_activity too), counted over
  // `admin`'s connection to another database.
  std::size_t sessions(pqxx::connection& admin) {
    return pqxx::nontransaction(admin)
        .exec_params1(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = $1 AND " + kClientBackend,
            store_->database_)[0]
        .as<std::size_t>();
  }
  std::size_t sessions() {
    pqxx::connection admin(store_->admin_url_);
    return sessions(admin);
  }
  void end_every_session() {
    pqxx::connection admin(store_->admin_url_);
    pqxx::nontransaction(admin).exec_params(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND " +
            kClientBackend,
        store_->database_);
  }
  const std::string kClientBackend = "backend_type = 'client backend'";
  std::optional<TempStore> store_;
};

TEST_F(Postgres, EveryStaleConnectionIsReopenedAfterTheServerEndsThem) {
  auto& jobs = *store_->store.jobs;
  // Concurrent calls until the pool holds several open connections.
  for (int round = 0; round < 50 && sessions() < 4; ++round) {
    std::vector<std::jthread> callers;
    for (int i = 0; i < 4; ++i)
      callers.emplace_back([&jobs] {
        for (int n = 0; n < 5; ++n)
          ASSERT_TRUE(jobs.claim("w", milliseconds(1000), kAttempts).ok());
      });
  }
  ASSERT_GE(sessions(), 4U);
  end_every_session();

  // No call fails, however many run at once: one that finds its connection broken
  // opens a new one, never another stale one.
  std::atomic<int> failures = 0;
  {
    std::vector<std::jthread> callers;
    for (int t = 0; t < 6; ++t)
      callers.emplace_back([&jobs, &failures, t] {
        for (int i = 0; i < 4; ++i) {
          const auto id = std::to_string(t) + "-" + std::to_string(i);
          if (!jobs.enqueue(job("j" + id, "k" + id)).ok()) ++failures;
        }
      });
  }
  EXPECT_EQ(failures, 0);
  auto claimed = jobs.claim("w", milliseconds(1000), kAttempts);
  ASSERT_TRUE(claimed.ok()) << claimed.error().message;
  EXPECT_TRUE(claimed->has_value());
}

TEST_F(Postgres, NeverOpensMoreConnectionsThanThePoolSize) {
  auto& jobs = *store_->store.jobs;  // the fixture's pool holds 4
  std::atomic<bool> done = false;
  std::vector<std::jthread> callers;
  for (int i = 0; i < 12; ++i)
    callers.emplace_back([&jobs, &done] {
      while (!done)
        ASSERT_TRUE(jobs.claim("w", milliseconds(1000), kAttempts).ok());
    });
  pqxx::connection admin(store_->admin_url_);
  std::size_t most = 0;
  for (int sample = 0; sample < 100; ++sample)
    most = std::max(most, sessions(admin));
  done = true;
  callers.clear();
  EXPECT_LE(most, 4U);
  EXPECT_GE(most, 2U);  // the callers did share it
}

TEST_F(Postgres, ReplicasStartingTogetherMigrateOnce) {
  const std::string fresh = store_->database_ + "_fresh";
  pqxx::connection admin(store_->admin_url_);
  pqxx::nontransaction(admin).exec("CREATE DATABASE " + fresh);
  const auto url = store_->admin_url_.substr(0, store_->admin_url_.rfind('/') + 1) + fresh;
  std::atomic<int> opened = 0;
  {
    std::vector<std::jthread> replicas;
    for (int i = 0; i < 4; ++i)
      replicas.emplace_back([&] {
        if (open_postgres({.url = url, .pool_size = 1, .blobs_dir = store_->folder / "blobs"}).ok())
          ++opened;
      });
  }
  EXPECT_EQ(opened, 4);
  {
    pqxx::connection connection(url);
    pqxx::nontransaction session(connection);
    const auto versions = session.exec("SELECT version FROM schema_migrations ORDER BY version");
    ASSERT_FALSE(versions.empty());
    for (std::size_t i = 0; i < versions.size(); ++i)
      EXPECT_EQ(versions[i][0].as<std::size_t>(), i + 1);  // each applied once, in order
  }
  pqxx::nontransaction(admin).exec("DROP DATABASE " + fresh + " WITH (FORCE)");
}

TEST_F(Postgres, NotificationsResumeAfterTheListeningSessionIsEnded) {
  std::mutex mutex;
  std::condition_variable changed;
  int listening = 0;
  int queued = 0;
  store_->store.notifications->listen([&](JobNotifications::Event event) {
    std::lock_guard lock(mutex);
    if (event == JobNotifications::Event::kListening) ++listening;
    if (event == JobNotifications::Event::kQueued) ++queued;
    changed.notify_all();
  });
  const auto wait_for = [&](int& counter, int count) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, std::chrono::seconds(20), [&] { return counter >= count; });
  };
  ASSERT_TRUE(wait_for(listening, 1));
  ASSERT_TRUE(store_->store.jobs->enqueue(job("a", "a")).ok());
  ASSERT_TRUE(wait_for(queued, 1));

  end_every_session();
  ASSERT_TRUE(wait_for(listening, 2));
  ASSERT_TRUE(store_->store.jobs->enqueue(job("b", "b")).ok());
  EXPECT_TRUE(wait_for(queued, 2));  // NOTIFY reaches the new session
  store_->store.notifications->stop();
}

INSTANTIATE_TEST_SUITE_P(Stores, Backend, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace esp::store
