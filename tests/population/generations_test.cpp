// The generation use cases against the embedded store (SQLite in a temporary folder):
// submitting is idempotent, waiting honours its deadline, cancelling ends a queued job,
// a job too big for the server is refused, and a running job's lease is renewed while
// it runs, so no other worker takes it.
#include "population/generations.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
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

// A view of ids, identities and metrics (the dashboard's) reads a checkpoint without its
// networks, and otherwise as it was handed out.
TEST(Generations, ACheckpointReadWithoutItsNetworksIsOtherwiseTheSame) {
  EmbeddedStore s;
  Generations generations(s.store, s.board, s.fresh, s.pool);
  const auto ended = seed_bred(s, generations, "e");
  auto whole = generations.checkpoint(kAlice, std::nullopt, "e", ended.result_checkpoint);
  auto light = generations.checkpoint(kAlice, std::nullopt, "e", ended.result_checkpoint,
                                      Generations::Interpretations::kLeftOut);
  ASSERT_TRUE(whole.ok() && light.ok());
  ASSERT_GT(light->population_size(), 0);
  for (auto& candidate : *whole->mutable_population()) {
    EXPECT_FALSE(candidate.interpretation().empty());
    candidate.clear_interpretation();
  }
  EXPECT_EQ(light->SerializeAsString(), whole->SerializeAsString());
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
  std::optional<std::string_view> read(std::string_view id, std::string&) const override {
    auto found = by_id_.find(id);
    if (found == by_id_.end()) return std::nullopt;
    return std::string_view(found->second);
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
                      RecentPopulations&, FreshPopulations& fresh, JobReport& timings) {
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
    evaluated.scored.push_back(
        {.id = answer->population(i).id(), .metrics = {{"score", std::sin(i * 1.7)}}});
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
                  RecentPopulations& recent, FreshPopulations& fresh, JobReport& timings) {
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

// The embedded store's payload files, with checkpoint writes held until let through, or
// failed once: what a slow or full disk does to a job storing its checkpoint.
class HeldBlobs final : public store::Blobs {
 public:
  explicit HeldBlobs(std::unique_ptr<store::Blobs> files) : files_(std::move(files)) {}
  Result<bool> put(const std::string& key, std::string_view bytes) override {
    if (key.starts_with("checkpoints/")) {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return !held_; });
      if (fail_next_) {
        fail_next_ = false;
        return Error{Code::kUnavailable, "cannot write " + key + ": No space left on device"};
      }
    }
    return files_->put(key, bytes);
  }
  Result<std::string> get(const std::string& key) override { return files_->get(key); }
  Result<bool> remove(const std::string& key) override { return files_->remove(key); }

  void hold() {
    set([&] { held_ = true; });
  }
  void let_through() {
    set([&] { held_ = false; });
  }
  void fail_next() {
    set([&] { fail_next_ = true; });
  }

 private:
  template <typename Change>
  void set(Change change) {
    std::lock_guard lock(mutex_);
    change();
    changed_.notify_all();
  }
  std::unique_ptr<store::Blobs> files_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool held_ = false;
  bool fail_next_ = false;
};

struct LetThroughAtEnd {
  HeldBlobs* blobs;
  ~LetThroughAtEnd() { blobs->let_through(); }
};

// Parameters whose population takes about 11 MB in esp's layout, big enough to be handed
// over before its checkpoint is stored (7,002 weights, 400 candidates).
std::string big_params(const std::string& representation = "NNWeightsBinary", int units = 1000) {
  auto params = nlohmann::json::parse(fixture());
  params["network"]["hidden_layers"][0]["layer_params"]["units"] = units;
  params["evolution"]["population_size"] = 400;
  params["evolution"]["seed"] = 7;
  params["LEAF"]["representation"] = representation;
  return params.dump();
}

Result<Generations::Ended> bred(Generations& generations, const std::string& job_id) {
  std::promise<Result<Generations::Ended>> answered;
  generations.when_bred(
      kAlice, job_id, std::chrono::steady_clock::now() + std::chrono::seconds(20),
      [&](Result<Generations::Ended> ended) { answered.set_value(std::move(ended)); });
  return answered.get_future().get();
}

::population::PopulationResponse parsed(const SharedBytes& bytes) {
  ::population::PopulationResponse population;
  EXPECT_TRUE(population.ParseFromString(bytes.joined()));
  return population;
}

EvaluatedPopulation scored(const ::population::PopulationResponse& population) {
  EvaluatedPopulation evaluated{.checkpoint_id = population.checkpoint_id()};
  for (int i = 0; i < population.population_size(); ++i)
    evaluated.scored.push_back(
        {.id = population.population(i).id(), .metrics = {{"score", std::cos(i * 0.37)}}});
  return evaluated;
}

// The embedded store with its payload files seen through `Blobs` (HeldBlobs, PieceBlobs).
template <typename Blobs>
struct StoreWith : EmbeddedStore {
  Blobs* blobs;
  StoreWith() {
    auto wrapped = std::make_unique<Blobs>(std::move(store.blobs));
    blobs = wrapped.get();
    store.blobs = std::move(wrapped);
  }
};
using HeldStore = StoreWith<HeldBlobs>;

// A GA generation in the SDK's JSON copies its parents' weight texts out of the request,
// which carries back the population as it was handed out, instead of writing them again;
// a parent the client changed is written afresh. Either way the answer is the bytes the
// checkpoint reads back as.
TEST(Generations, AJsonGenerationReadsItsParentsTextsOutOfTheRequest) {
  for (const bool changed : {false, true}) {
    EmbeddedStore s;
    Generations generations(s.store, s.board, s.fresh, s.pool);
    RecentPopulations recent(std::size_t{1} << 30, std::size_t{1} << 30);
    std::vector<std::size_t> texts_from_request;
    // Each job answers a call that awaits it before any worker runs it: only then is the
    // SDK's JSON written, and its digests kept, by the worker.
    const auto answer = [&](const std::string& job_id) -> Result<Generations::Ended> {
      auto answered = std::async(std::launch::async, [&] { return bred(generations, job_id); });
      while (!s.fresh.awaited(job_id))
        std::this_thread::sleep_for(milliseconds(1));
      Workers workers(s.store, s.board, s.fresh, {.workers = 1, .poll = milliseconds(5)},
                      [&](store::Store& store, const store::Job& job, unsigned threads,
                          RecentPopulations&, FreshPopulations& fresh, JobReport& report) {
                        auto ran = run_generation_job(store, job, threads, recent, fresh, report);
                        texts_from_request.push_back(report.texts_from_request);
                        return ran;
                      });
      workers.start();
      auto ended = answered.get();
      workers.stop();
      return ended;
    };
    auto params = nlohmann::json::parse(fixture());
    params["evolution"]["seed"] = 7;
    params["LEAF"]["representation"] = "NNWeights";
    auto seed = generations.submit(kAlice, {.experiment_id = "e", .params_json = params.dump()});
    ASSERT_TRUE(seed.ok()) << seed.error().message;
    auto seeded = answer(seed->id);
    ASSERT_TRUE(seeded.ok()) << seeded.error().message;
    const auto population = parsed(seeded->population);
    ASSERT_EQ(population.population_size(), 20);
    auto sent = std::make_shared<SentBack>(population);
    if (changed) {
      for (auto& [id, interpretation] : sent->by_id())
        interpretation.insert(interpretation.find("\"model_weights\""), " ");
    }
    auto second = generations.submit(kAlice, {.experiment_id = "e",
                                              .params_json = params.dump(),
                                              .evaluated = scored(population),
                                              .interpretations = sent});
    ASSERT_TRUE(second.ok()) << second.error().message;
    auto bred_second = answer(second->id);
    ASSERT_TRUE(bred_second.ok()) << bred_second.error().message;
    ASSERT_EQ(texts_from_request.size(), 2U);
    // The parents' pool is the best 20% of 20 candidates (the 2 elites among them).
    EXPECT_EQ(texts_from_request[1], changed ? 0U : 4U);
    const auto& checkpoint = bred_second->job.result_checkpoint;
    auto read_back = generations.checkpoint_bytes(kAlice, std::nullopt, "e", checkpoint);
    ASSERT_TRUE(read_back.ok()) << read_back.error().message;
    EXPECT_TRUE(read_back->joined() == bred_second->population.joined())
        << (changed ? "changed" : "as sent");
  }
}

// A big population goes to the waiting call while its checkpoint is still being written
// (the disk's flush was most of a 100,000-candidate generation). Until it is recorded, the
// checkpoint is promised: the client's next request names it and is accepted, a read of it
// waits for it, and a worker breeding from it waits too. In the SDK's JSON the answer is
// written before the checkpoint is.
class BigPopulations : public testing::TestWithParam<std::string> {};

TEST_P(BigPopulations, AreAnsweredBeforeTheirCheckpointIsStored) {
  HeldStore s;
  Generations generations(s.store, s.board, s.fresh, s.pool);
  Workers workers(s.store, s.board, s.fresh, {.workers = 2, .poll = milliseconds(20)});
  workers.start();
  s.blobs->hold();
  const LetThroughAtEnd unblocked{s.blobs};  // a failed assertion must not hang the workers
  auto seed =
      generations.submit(kAlice, {.experiment_id = "e", .params_json = big_params(GetParam())});
  ASSERT_TRUE(seed.ok()) << seed.error().message;
  auto answered = bred(generations, seed->id);
  ASSERT_TRUE(answered.ok()) << answered.error().message;
  EXPECT_EQ(answered->job.status, store::JobStatus::kRunning);  // still storing it
  const auto population = parsed(answered->population);
  ASSERT_EQ(population.population_size(), 400);
  const std::string checkpoint_id = population.checkpoint_id();
  EXPECT_FALSE(s.store.checkpoints->find("alice", checkpoint_id)->has_value());

  GenerationRequest next{.experiment_id = "e", .evaluated = scored(population)};
  auto second = generations.submit(kAlice, std::move(next));
  ASSERT_TRUE(second.ok()) << second.error().message;
  auto read = std::async(std::launch::async, [&] {
    return generations.checkpoint_bytes(kAlice, std::nullopt, "e", checkpoint_id);
  });
  EXPECT_EQ(read.wait_for(milliseconds(300)), std::future_status::timeout);
  s.blobs->let_through();
  auto stored = read.get();
  ASSERT_TRUE(stored.ok()) << stored.error().message;
  EXPECT_TRUE(stored->joined() ==
              answered->population.joined());  // byte for byte what was handed out
  auto second_bred = wait(generations, kAlice, second->id, std::chrono::seconds(60));
  ASSERT_TRUE(second_bred.ok());
  EXPECT_EQ(second_bred->status, store::JobStatus::kSucceeded) << second_bred->error;
  EXPECT_TRUE(second_bred->result_checkpoint.starts_with("e/2/"));
  workers.stop();
}

INSTANTIATE_TEST_SUITE_P(EspLayoutAndTheSdksJson, BigPopulations,
                         testing::Values("NNWeightsBinary", "NNWeights"));

// The embedded store's payload files, a checkpoint's in two pieces, noting how many of the
// first piece's pages were still in memory once its writer was told they were written.
class PieceBlobs final : public store::Blobs {
 public:
  struct Resident {
    std::size_t pages;
    std::size_t of;
  };
  explicit PieceBlobs(std::unique_ptr<store::Blobs> files) : files_(std::move(files)) {}
  Result<bool> put(const std::string& key, std::string_view bytes) override {
    return files_->put(key, bytes);
  }
  Result<bool> put_in_pieces(const std::string& key, std::string_view bytes,
                             const WrittenSoFar& written) override {
    if (!key.starts_with("checkpoints/")) return put(key, bytes);
    const std::string stored(bytes);  // copied before any of it is let go
    const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    const std::size_t first = bytes.size() / 2 / page * page;
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(bytes.data()) % page, 0U);
    written(first);
    std::vector<unsigned char> in_memory(first / page);
    EXPECT_EQ(mincore(const_cast<char*>(bytes.data()), first, in_memory.data()), 0);
    {
      std::lock_guard lock(mutex_);
      resident_.push_back({.pages = static_cast<std::size_t>(std::ranges::count_if(
                               in_memory, [](unsigned char r) { return (r & 1) != 0; })),
                           .of = in_memory.size()});
    }
    auto put = files_->put(key, stored);
    if (put.ok()) written(bytes.size());
    if (once_written) once_written();
    return put;
  }
  std::function<void()> once_written;  // before the put returns (set while no job runs)
  Result<std::string> get(const std::string& key) override { return files_->get(key); }
  Result<bool> remove(const std::string& key) override { return files_->remove(key); }

  std::vector<Resident> resident() {
    std::lock_guard lock(mutex_);
    return resident_;
  }

 private:
  std::unique_ptr<store::Blobs> files_;
  std::mutex mutex_;
  std::vector<Resident> resident_;
};

using PieceStore = StoreWith<PieceBlobs>;

struct NoLargeBlocksKept {
  NoLargeBlocksKept() { core::keep_large_blocks_up_to(core::kHugePageBytes); }
  ~NoLargeBlocksKept() { core::keep_large_blocks_up_to(core::kDefaultLargestKeptBlock); }
};

// A job's input (what another replica breeds it from) holds every candidate's metrics as
// sent, however many there are: here 20,000, written side by side.
TEST(Generations, AJobsInputHoldsEveryCandidatesMetrics) {
  EmbeddedStore s;
  Generations generations(s.store, s.board, s.fresh, s.pool);
  const auto seeded = seed_bred(s, generations, "e");
  EvaluatedPopulation evaluated{.checkpoint_id = seeded.result_checkpoint};
  for (int i = 0; i < 20000; ++i) {
    evaluated.scored.push_back(
        {.id = "1_" + std::to_string(i + 1), .metrics = {{"score", i * 0.5}, {"cost", -i}}});
  }
  const EvaluatedPopulation sent = evaluated;
  auto job = generations.submit(kAlice, {.experiment_id = "e", .evaluated = std::move(evaluated)});
  ASSERT_TRUE(job.ok()) << job.error().message;
  auto input = s.store.blobs->get(job->input_blob_key);
  ASSERT_TRUE(input.ok()) << input.error().message;
  const auto stored = nlohmann::json::parse(*input);
  ASSERT_EQ(stored.size(), 20000U);
  for (const auto& [id, metrics] : sent.scored) {
    ASSERT_TRUE(stored.contains(id)) << id;
    EXPECT_EQ(stored[id].get<evolution::MetricValues>(), metrics) << id;
  }
}

// The embedded store, its generations and a worker breeding them.
struct Breeding : EmbeddedStore {
  Generations generations{store, board, fresh, pool};
  Workers workers{store, board, fresh, {.workers = 1, .poll = milliseconds(5)}};
  Breeding() { workers.start(); }
  ~Breeding() { workers.stop(); }
};

// Alice's generation of `experiment` bred by the workers running (its seed without
// `evaluated`): the population it answered.
::population::PopulationResponse bred_checkpoint(Generations& generations,
                                                 const std::string& experiment,
                                                 const std::string& params_json,
                                                 std::optional<EvaluatedPopulation> evaluated) {
  auto job = generations.submit(
      kAlice,
      {.experiment_id = experiment, .params_json = params_json, .evaluated = std::move(evaluated)});
  if (!job.ok()) {
    ADD_FAILURE() << job.error().message;
    return {};
  }
  auto ended = wait(generations, kAlice, job->id, std::chrono::seconds(60));
  if (!ended.ok() || ended->status != store::JobStatus::kSucceeded) {
    ADD_FAILURE() << experiment << ": the generation did not succeed";
    return {};
  }
  auto population =
      generations.checkpoint(kAlice, std::nullopt, experiment, ended->result_checkpoint);
  if (!population.ok()) ADD_FAILURE() << population.error().message;
  return population.ok() ? *population : ::population::PopulationResponse{};
}

// The SDK sends every candidate's metrics in the population's order; another client may
// send them in any order, or one of them twice, the last counting: the same generation.
TEST(Generations, MetricsInAnyOrderBreedTheSameGeneration) {
  Breeding s;
  auto params = nlohmann::json::parse(fixture());
  params["evolution"]["seed"] = 5;  // the same in both experiments
  std::vector<::population::PopulationResponse> second;
  for (const std::string experiment : {"in-order", "shuffled"}) {
    auto evaluated =
        scored(bred_checkpoint(s.generations, experiment, params.dump(), std::nullopt));
    if (experiment == "shuffled") {
      std::ranges::reverse(evaluated.scored);
      const std::string repeated = evaluated.scored[3].id;
      evaluated.scored.insert(evaluated.scored.begin(),
                              {.id = repeated, .metrics = {{"score", 1e9}}});  // sent again later
    }
    second.push_back(
        bred_checkpoint(s.generations, experiment, params.dump(), std::move(evaluated)));
  }
  EXPECT_EQ(second[0].evaluation_stats(), second[1].evaluation_stats());
  ASSERT_EQ(second[0].population_size(), second[1].population_size());
  for (int i = 0; i < second[0].population_size(); ++i) {
    EXPECT_EQ(second[0].population(i).interpretation(), second[1].population(i).interpretation())
        << i;
    EXPECT_EQ(second[0].population(i).metrics(), second[1].population(i).metrics()) << i;
  }
}

// With many candidates (their documents are written side by side) every evaluated one is
// in server_metrics with what the client sent and its standing, in order, and every elite
// comes back with its metrics.
TEST(Generations, ManyCandidatesEachGetTheirServerMetricsAndElitesTheirs) {
  Breeding s;
  auto params = nlohmann::json::parse(fixture());
  params["evolution"]["population_size"] = 9000;
  params["evolution"]["nb_elites"] = 900;
  const auto population = bred_checkpoint(s.generations, "e", params.dump(), std::nullopt);
  const auto next = bred_checkpoint(s.generations, "e", params.dump(), scored(population));

  const std::string& text = next.evaluation_stats();
  const auto stats = nlohmann::json::parse(text);
  const auto& server_metrics = stats.at("server_metrics");
  ASSERT_EQ(server_metrics.size(), 9000U);
  std::map<std::string, double> elite_scores;
  std::size_t at = 0;
  for (int i = 0; i < population.population_size(); ++i) {
    const std::string& id = population.population(i).id();
    at = text.find("\"" + id + "\":{", at);
    ASSERT_NE(at, std::string::npos) << id << " is not after the one before";
    const auto& entry = server_metrics.at(id);
    EXPECT_DOUBLE_EQ(entry.at("score").get<double>(), std::cos(i * 0.37)) << id;
    if (entry.at("is_elite").get<bool>()) elite_scores[id] = std::cos(i * 0.37);
  }
  EXPECT_EQ(elite_scores.size(), 900U);
  std::map<std::string, double> elites_back;
  for (const auto& candidate : next.population()) {
    if (!candidate.metrics().empty())
      elites_back[candidate.id()] = nlohmann::json::parse(candidate.metrics()).at("score");
  }
  EXPECT_EQ(elites_back, elite_scores);
}

// A job lets go of its checkpoint's bytes as they are written: the next request may
// arrive while a big one is still being stored (at P=100,000, 490 MB on top of the
// request's 490 MB). Bytes a call is still sending stay whole until it is done with
// them, and go then, though the disk may still be flushing them.
TEST(Generations, AJobLetsGoOfItsCheckpointAsItIsWrittenUnlessACallStillSendsIt) {
  const NoLargeBlocksKept not_kept;  // as at P=100,000, where the blocks are too large
  PieceStore s;
  Generations generations(s.store, s.board, s.fresh, s.pool);
  const auto run_workers = [&] {
    auto workers = std::make_unique<Workers>(s.store, s.board, s.fresh,
                                             WorkerOptions{.workers = 1, .poll = milliseconds(5)});
    workers->start();
    return workers;
  };
  auto unawaited = generations.submit(kAlice, {.experiment_id = "e", .params_json = big_params()});
  ASSERT_TRUE(unawaited.ok()) << unawaited.error().message;
  auto workers = run_workers();
  auto stored = wait(generations, kAlice, unawaited->id, std::chrono::seconds(60));
  workers->stop();
  ASSERT_TRUE(stored.ok()) << stored.error().message;
  ASSERT_EQ(stored->status, store::JobStatus::kSucceeded) << stored->error;

  auto awaited = generations.submit(kAlice, {.experiment_id = "f", .params_json = big_params()});
  ASSERT_TRUE(awaited.ok()) << awaited.error().message;
  std::optional<Result<Generations::Ended>> answered;
  std::promise<void> answer_here;
  long holders_once_written = 0;  // of the bytes the call holds
  s.blobs->once_written = [&, here = answer_here.get_future().share()] {
    here.wait();
    holders_once_written = (*answered)->population.owner.use_count();
  };
  auto answering = std::async(std::launch::async, [&] { return bred(generations, awaited->id); });
  while (!s.fresh.awaited(awaited->id))
    std::this_thread::sleep_for(milliseconds(1));
  workers = run_workers();
  answered = answering.get();
  answer_here.set_value();
  ASSERT_TRUE(answered->ok()) << answered->error().message;
  ASSERT_TRUE(wait(generations, kAlice, awaited->id, std::chrono::seconds(60)).ok());
  workers->stop();
  EXPECT_EQ(holders_once_written, 1) << "the job let go of them once written";
  // A smaller population (4 MB) goes to its call once stored: nothing goes before.
  s.blobs->once_written = nullptr;
  auto smaller = generations.submit(
      kAlice, {.experiment_id = "g", .params_json = big_params("NNWeightsBinary", 360)});
  ASSERT_TRUE(smaller.ok()) << smaller.error().message;
  auto answering_after =
      std::async(std::launch::async, [&] { return bred(generations, smaller->id); });
  while (!s.fresh.awaited(smaller->id))
    std::this_thread::sleep_for(milliseconds(1));
  workers = run_workers();
  auto answered_after = answering_after.get();
  workers->stop();
  ASSERT_TRUE(answered_after.ok()) << answered_after.error().message;
  EXPECT_EQ(answered_after->job.status, store::JobStatus::kSucceeded);

  const auto resident = s.blobs->resident();
  ASSERT_EQ(resident.size(), 3U);
  EXPECT_GT(resident[0].of, 1000U);  // about 5 MB
  EXPECT_EQ(resident[0].pages, 0U) << "nobody else held them";
  EXPECT_EQ(resident[1].pages, resident[1].of) << "the call held them";
  EXPECT_GT(resident[2].of, 256U);  // over a huge page: a large block
  EXPECT_EQ(resident[2].pages, resident[2].of) << "yet to be answered";
  auto smaller_stored = generations.checkpoint_bytes(kAlice, std::nullopt, "g",
                                                     answered_after->job.result_checkpoint);
  ASSERT_TRUE(smaller_stored.ok()) << smaller_stored.error().message;
  EXPECT_TRUE(smaller_stored->joined() == answered_after->population.joined());
  const auto answer = parsed((*answered)->population);
  EXPECT_EQ(answer.population_size(), 400);
  auto checkpoint = generations.checkpoint_bytes(kAlice, std::nullopt, "f", answer.checkpoint_id());
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.error().message;
  EXPECT_TRUE(checkpoint->joined() == (*answered)->population.joined());
  auto first = generations.checkpoint_bytes(kAlice, std::nullopt, "e", stored->result_checkpoint);
  ASSERT_TRUE(first.ok()) << first.error().message;
  ::population::PopulationResponse first_population;
  ASSERT_TRUE(first_population.ParseFromString(first->joined()));
  EXPECT_EQ(first_population.population_size(), 400);
}

// Storing the checkpoint failed after the population went out: the job is not failed
// (that checkpoint could then never exist) but runs again at once, its lease given up
// (this one lasts a minute), and makes the very bytes the client holds, under the id it
// was given.
TEST(Generations, ACheckpointLostAfterItsPopulationWentOutIsMadeAgainTheSame) {
  HeldStore s;
  Generations generations(s.store, s.board, s.fresh, s.pool);
  Workers workers(s.store, s.board, s.fresh,
                  {.workers = 1,
                   .lease = std::chrono::minutes(1),
                   .heartbeat = std::chrono::seconds(20),
                   .poll = milliseconds(20)});
  workers.start();
  s.blobs->hold();
  const LetThroughAtEnd unblocked{s.blobs};
  s.blobs->fail_next();
  auto seed = generations.submit(kAlice, {.experiment_id = "e", .params_json = big_params()});
  ASSERT_TRUE(seed.ok()) << seed.error().message;
  auto answered = bred(generations, seed->id);
  ASSERT_TRUE(answered.ok()) << answered.error().message;
  s.blobs->let_through();
  auto ended = wait(generations, kAlice, seed->id, std::chrono::seconds(60));
  ASSERT_TRUE(ended.ok());
  EXPECT_EQ(ended->status, store::JobStatus::kSucceeded) << ended->error;
  EXPECT_EQ(ended->attempts, 2);
  EXPECT_EQ(ended->result_checkpoint, parsed(answered->population).checkpoint_id());
  auto stored = generations.checkpoint_bytes(kAlice, std::nullopt, "e", ended->result_checkpoint);
  ASSERT_TRUE(stored.ok()) << stored.error().message;
  EXPECT_TRUE(stored->joined() == answered->population.joined());
  workers.stop();
}

// What `job` stores when run as attempt `attempt` on `threads` threads, remembering
// recent populations in `recent`: its checkpoint record and payload.
std::pair<store::Checkpoint, std::string> run_as(EmbeddedStore& s, store::Job job, int attempt,
                                                 unsigned threads, RecentPopulations& recent) {
  job.attempts = attempt;
  FreshPopulations fresh;
  JobReport report;
  auto checkpoint = run_generation_job(s.store, job, threads, recent, fresh, report);
  if (!checkpoint.ok()) {
    ADD_FAILURE() << checkpoint.error().message;
    return {};
  }
  return {*checkpoint, s.store.blobs->get(checkpoint->blob_key).value()};
}

// A job run again, as after its process died before recording its checkpoint: on
// another replica (nothing remembered, other threads) and later, it makes the same
// checkpoint id and the same bytes, for a seed and for a bred generation, GA and CMA-ES.
TEST(Generations, EveryRunOfAJobMakesTheSameCheckpoint) {
  for (const std::string algorithm : {"ga", "cma_es"}) {
    EmbeddedStore s;
    Generations generations(s.store, s.board, s.fresh, s.pool);
    auto params = nlohmann::json::parse(fixture());
    params["evolution"]["seed"] = 11;
    params["evolution"]["algorithm"] = algorithm;
    RecentPopulations recent(std::size_t{1} << 30, std::size_t{1} << 30);
    EvaluatedPopulation evaluated;
    for (int generation = 1; generation <= 2; ++generation) {
      GenerationRequest request{.experiment_id = "e", .params_json = params.dump()};
      if (generation == 2) request.evaluated = evaluated;
      ASSERT_TRUE(generations.submit(kAlice, std::move(request)).ok());
      auto job = s.store.jobs->claim("r1/0", std::chrono::seconds(30), 3);
      ASSERT_TRUE(job.ok() && job->has_value());
      const auto first = run_as(s, **job, 1, 2, recent);
      std::this_thread::sleep_for(milliseconds(5));  // a later clock changes nothing
      RecentPopulations elsewhere(std::size_t{1} << 30, std::size_t{1} << 30);
      const auto again = run_as(s, **job, 2, 1, elsewhere);
      EXPECT_EQ(again.first.checkpoint_id, first.first.checkpoint_id)
          << algorithm << " generation " << generation;
      EXPECT_TRUE(again.second == first.second) << algorithm << " generation " << generation;
      EXPECT_TRUE(first.first.checkpoint_id.starts_with("e/" + std::to_string(generation) + "/"));
      // The first run is recorded, for the next generation to breed from.
      ASSERT_TRUE(s.store.jobs->succeed((*job)->id, "r1/0", first.first).ok());
      ::population::PopulationResponse population;
      ASSERT_TRUE(population.ParseFromString(first.second));
      evaluated = scored(population);
    }
  }
}

}  // namespace
}  // namespace esp::population
