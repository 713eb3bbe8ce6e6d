// The generation use cases against the embedded store (SQLite in a temporary folder):
// submitting is idempotent, waiting honours its deadline, cancelling ends a queued job,
// a job too big for the server is refused, and a running job's lease is renewed while
// it runs, so no other worker takes it.
#include "population/generations.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
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

// A request's interpretations as gRPC holds them, here from the answer the client got.
class SentBack : public SentInterpretations {
 public:
  explicit SentBack(const ::population::PopulationResponse& answer) {
    for (const auto& candidate : answer.population())
      by_id_[candidate.id()] = candidate.interpretation();
  }
  bool copy(std::string_view id, std::string& out) const override {
    auto found = by_id_.find(id);
    if (found == by_id_.end()) return false;
    out = found->second;
    return true;
  }
  std::map<std::string, std::string, std::less<>>& by_id() { return by_id_; }

 private:
  std::map<std::string, std::string, std::less<>> by_id_;
};

// Generation 2 of a binary experiment with a fixed seed, bred by workers that keep the
// genomes of no population (as at P=100,000) unless `keep_genomes`: what each candidate's
// interpretation is. `before_breeding` may change what the call hands over, or the store.
using Meddle = std::function<void(EmbeddedStore&, const store::Checkpoint&, SentBack&)>;
std::vector<std::string> second_generation(bool keep_genomes, const Meddle& before_breeding,
                                           bool send_interpretations = true) {
  EmbeddedStore s;
  Generations generations(s.store, s.board, s.fresh, s.pool);
  RecentPopulations recent(std::size_t{1} << 30, keep_genomes ? std::size_t{1} << 30 : 0);
  Workers workers(s.store, s.board, s.fresh, {.workers = 1, .poll = milliseconds(20)},
                  [&](store::Store& store, const store::Job& job, unsigned threads,
                      RecentPopulations&, FreshPopulations& fresh, JobTimings& timings) {
                    return run_generation_job(store, job, threads, recent, fresh, timings);
                  });
  workers.start();
  auto params = nlohmann::json::parse(fixture());
  params["LEAF"]["representation"] = "NNWeightsBinary";
  params["evolution"]["seed"] = 7;
  auto seed = generations.submit(kAlice, {.experiment_id = "e", .params_json = params.dump()});
  EXPECT_TRUE(seed.ok());
  auto seeded = wait(generations, kAlice, seed->id, std::chrono::seconds(20));
  EXPECT_EQ(seeded->status, store::JobStatus::kSucceeded);
  auto answer = generations.checkpoint(kAlice, std::nullopt, "e", seeded->result_checkpoint);
  EXPECT_TRUE(answer.ok());
  EvaluatedPopulation evaluated{.checkpoint_id = seeded->result_checkpoint};
  for (int i = 0; i < answer->population_size(); ++i)
    evaluated.metrics[answer->population(i).id()] = {{"score", std::sin(i * 1.7)}};
  auto sent = std::make_shared<SentBack>(*answer);
  auto checkpoint = s.store.checkpoints->find("alice", seeded->result_checkpoint);
  EXPECT_TRUE(checkpoint.ok() && checkpoint->has_value());
  before_breeding(s, **checkpoint, *sent);
  GenerationRequest next{
      .experiment_id = "e", .params_json = params.dump(), .evaluated = evaluated};
  if (send_interpretations) next.interpretations = sent;
  auto job = generations.submit(kAlice, std::move(next));
  EXPECT_TRUE(job.ok());
  auto bred = wait(generations, kAlice, job->id, std::chrono::seconds(20));
  workers.stop();
  EXPECT_TRUE(bred.ok());
  if (bred->status != store::JobStatus::kSucceeded) return {"failed: " + bred->error};
  auto second = generations.checkpoint(kAlice, std::nullopt, "e", bred->result_checkpoint);
  std::vector<std::string> interpretations;
  for (const auto& candidate : second->population())
    interpretations.push_back(candidate.id() + ":" + candidate.interpretation());
  return interpretations;
}

void leave_as_is(EmbeddedStore&, const store::Checkpoint&, SentBack&) {}

// A population too large to keep between generations is bred from the client's copy of
// its parents, checked against what it was handed: the same bits as from memory.
TEST(Generations, APopulationKeptWithoutGenomesBreedsFromTheRequestsParents) {
  const auto reference = second_generation(true, leave_as_is);
  ASSERT_EQ(reference.size(), 20U);
  // The checkpoint's payload is gone: only the request can have supplied the parents.
  EXPECT_EQ(second_generation(false,
                              [](EmbeddedStore& s, const store::Checkpoint& checkpoint, SentBack&) {
                                ASSERT_TRUE(s.store.blobs->remove(checkpoint.blob_key).ok());
                              }),
            reference);
  // Without the checkpoint and without the request's copy there is nothing to breed from.
  const auto lost = second_generation(
      false,
      [](EmbeddedStore& s, const store::Checkpoint& checkpoint, SentBack&) {
        ASSERT_TRUE(s.store.blobs->remove(checkpoint.blob_key).ok());
      },
      false);
  ASSERT_EQ(lost.size(), 1U);
  EXPECT_TRUE(lost[0].starts_with("failed")) << lost[0];
}

// A client that changed or dropped a parent's weights does not breed from them: the
// checkpoint is read instead, and the generation is what it would have been.
TEST(Generations, ARequestWhoseParentsDifferFromTheHandedOutOnesBreedsFromTheCheckpoint) {
  const auto reference = second_generation(true, leave_as_is);
  EXPECT_EQ(second_generation(false,
                              [](EmbeddedStore&, const store::Checkpoint&, SentBack& sent) {
                                for (auto& [id, interpretation] : sent.by_id())
                                  interpretation.back() ^= 1;
                              }),
            reference);
  EXPECT_EQ(second_generation(false, [](EmbeddedStore&, const store::Checkpoint&,
                                        SentBack& sent) { sent.by_id().clear(); }),
            reference);
  EXPECT_EQ(second_generation(false, leave_as_is, false), reference);
}

// A request's interpretations wait for a worker of this process, and only if there is one.
TEST(Generations, InterpretationsAreHeldOnlyWhereJobsRun) {
  for (bool runs_jobs : {true, false}) {
    EmbeddedStore s;
    Generations generations(s.store, s.board, s.fresh, s.pool, {.runs_jobs = runs_jobs});
    const auto seeded = seed_bred(s, generations, "e");
    auto answer = generations.checkpoint(kAlice, std::nullopt, "e", seeded.result_checkpoint);
    ASSERT_TRUE(answer.ok());
    auto request = s.seed_request("e");
    request.evaluated = EvaluatedPopulation{.checkpoint_id = seeded.result_checkpoint};
    request.interpretations = std::make_shared<SentBack>(*answer);
    auto job = generations.submit(kAlice, std::move(request));
    ASSERT_TRUE(job.ok());
    EXPECT_EQ(s.fresh.take_input(job->input_blob_key).interpretations != nullptr, runs_jobs);
  }
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
