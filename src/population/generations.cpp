#include "population/generations.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <cmath>
#include <cstring>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <span>
#include <thread>
#include <unordered_map>

#include "auth/digest.h"
#include "codec/candidate_codec.h"
#include "codec/candidate_json.h"
#include "codec/interpretation.h"
#include "core/json.h"
#include "evolution/engine.h"
#include "evolution/network.h"
#include "evolution/parallel.h"
#include "evolution/params.h"
#include "evolution/random.h"
#include "observability/log.h"
#include "population/job_size.h"
#include "population/population_bytes.h"
#include "population/promised_checkpoints.h"

namespace esp::population {
namespace {

using Json = nlohmann::json;
namespace asio = boost::asio;
namespace pb = ::population;
using codec::identity_from_json;

// How long a read of a checkpoint waits while its job is still storing it: a second or
// two, unless that job's process died and it runs again once its lease runs out.
constexpr auto kAwaitPromised = std::chrono::seconds(10);
// A job waits longer for its source: it holds no caller's thread. Long enough for a lease
// to run out and the job making it to run again; should every worker be waiting, the
// wait fails as kUnavailable and frees them, and the client's retry queues the job again.
constexpr auto kAwaitSourceInJob = std::chrono::minutes(2);

// A population this big goes to its waiting call before its checkpoint is stored:
// storing 490 MB took 0.7-0.85 s on the development VM, most of it the disk's flush.
// Nothing is lost by it. The job's input was stored when it was queued, and every run of
// the job makes the same bits (its checkpoint id included), so a checkpoint lost with
// its process is made again when the job runs again after its lease runs out; the
// client's next request may name it meanwhile (promised_checkpoints.h). A smaller one is
// stored within milliseconds and goes after, so every read agrees with the answer.
constexpr std::size_t kHandOverBeforeStoringFrom = std::size_t{8} << 20;

// What one thread of a generation's work is given at least. A thread takes tens of
// microseconds to start and join, and a generation starts them at every step: on 16
// cores, a P=20 W=90 generation took 6.4-7.1 ms with a thread per core and 3.9 ms with
// one. 65,536 weights are about 2 ms of writing the SDK's JSON (27 ns a weight).
constexpr std::size_t kWeightsPerThread = 65536;

// Later requests may change evolution settings (recorded per generation), never the
// network or the representation: candidates of other shapes could not be bred.
std::optional<Error> check_same_network(const store::Experiment& experiment,
                                        const std::string& params_json,
                                        const evolution::ExperimentParams& given) {
  if (experiment.params_json == params_json) return std::nullopt;
  // Validated before it was stored; a record that no longer parses is not this network.
  auto stored = evolution::parse_params(experiment.params_json);
  if (stored.ok() && stored->network == given.network &&
      stored->leaf.representation == given.leaf.representation)
    return std::nullopt;
  return Error{
      Code::kFailedPrecondition,
      fmt::format("experiment {} exists with another network; only evolution settings may change "
                  "between generations (use a new experiment id for a new network)",
                  experiment.id)};
}

// CMA-ES continues the strategy stored with the checkpoint it breeds from, and each
// variant only its own (the GA needs none). Refused here, before a job that could only
// fail in the worker, where the client would learn nothing of why.
// `source_params_json`: the parameters the checkpoint was (or is being) bred with.
std::optional<Error> check_strategy_continues(const std::string& source_id,
                                              const std::string& source_params_json,
                                              const evolution::ExperimentParams& given) {
  const auto wanted = given.evolution.algorithm;
  if (wanted == evolution::Algorithm::kGa) return std::nullopt;
  // Validated before it was stored; a record that no longer parses fails in the job.
  auto bred_with = evolution::parse_params(source_params_json);
  if (!bred_with.ok() || bred_with->evolution.algorithm == wanted) return std::nullopt;
  return Error{Code::kFailedPrecondition,
               fmt::format("evolution.algorithm: checkpoint {} was bred by {}, and {} continues "
                           "only its own strategy; use a new experiment id to start {}",
                           source_id, evolution::name_of(bred_with->evolution.algorithm),
                           evolution::name_of(wanted), evolution::name_of(wanted))};
}

// Appends entries 0..count-1, each written by `write(i, entry)`, separated by commas. Many
// are written side by side: at P=100,000 a job's input took 46-50 ms on one thread, its
// evaluation_stats 62 ms.
void append_entries(std::string& out, std::size_t count,
                    const std::function<void(std::size_t, std::string&)>& write) {
  const unsigned threads = evolution::threads_for(count, 8192);
  std::vector<std::string> parts(threads);
  evolution::parallel_for(threads, threads, [&](std::size_t first, std::size_t last) {
    for (std::size_t part = first; part < last; ++part) {
      const std::size_t begin = count * part / threads;
      for (std::size_t i = begin; i < count * (part + 1) / threads; ++i) {
        if (i > begin) parts[part] += ',';
        write(i, parts[part]);
      }
    }
  });
  bool first = true;
  for (const std::string& part : parts) {
    if (part.empty()) continue;
    if (!first) out += ',';
    out += part;
    first = false;
  }
}

// The client's metrics as {candidate id: metrics}, the job's only input besides the
// stored checkpoint (whose weights are used, not the client's copy). Written as text: a
// document of 100,000 candidates' metrics took longer to build and dump than to breed.
std::string metrics_input(const EvaluatedPopulation& evaluated) {
  std::string out = "{";
  append_entries(out, evaluated.scored.size(), [&](std::size_t i, std::string& entry) {
    json::append_string(entry, evaluated.scored[i].id);  // a repeated id: the last is read
    entry += ':';
    entry += codec::metrics_json_text(evaluated.scored[i].metrics);
  });
  out += '}';
  return out;
}

// A checkpoint whose stored bytes no longer read: the server's fault, named for its log.
Error corrupt(const std::string& checkpoint_id, const Error& detail) {
  return Error{Code::kInternal, "checkpoint " + checkpoint_id + " is corrupt: " + detail.message};
}

// A stored blob's bytes where they lie (a file's mapping), as bytes to answer or read.
Result<SharedBytes> stored_bytes(store::Store& store, const std::string& blob_key) {
  auto stored = store.blobs->view(blob_key);
  if (!stored.ok()) return stored.error();
  return SharedBytes{.owner = std::move(stored->owner), .pieces = {stored->bytes}};
}

// The stored population back as an engine population (weights from the checkpoint).
// Decoded on `threads` threads (the SDK's JSON reads at about 27 ns a weight).
Result<evolution::Population> to_engine(const codec::CandidateCodec& codec,
                                        const PopulationView& stored, unsigned threads) {
  const std::size_t count = stored.candidates.size();
  evolution::Population population{
      .generation = stored.others.generation_count(),
      .candidates = std::vector<evolution::Candidate>(count),
      .genomes = evolution::Genomes(count, codec.shape().weight_count())};
  std::vector<std::optional<Error>> failures(count);
  evolution::parallel_for(count, threads, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) {
      const codec::CandidateView& candidate = stored.candidates[i];
      auto weights = codec.decode(candidate.interpretation);
      if (!weights.ok()) {
        failures[i] = weights.error();
        continue;
      }
      population.candidates[i] = {.id = std::string(candidate.id),
                                  .identity = identity_from_json(candidate.identity)};
      std::copy(weights->begin(), weights->end(), population.genomes[i].begin());
    }
  });
  for (auto& failure : failures) {
    if (failure) return std::move(*failure);
  }
  return population;
}

// Answering a checkpoint holds its stored bytes, the population in the caller's
// representation and REST's JSON text of it (a third larger) or the message parsed from
// it, with room to spare: kResourceExhausted when that is over this server's budget. A
// checkpoint made under the same limit always fits; one made by a replica with more
// memory may not.
std::optional<Error> check_answer_size(const store::Checkpoint& checkpoint,
                                       const evolution::ExperimentParams& params,
                                       std::uint64_t max_memory_bytes) {
  const auto stored = static_cast<std::uint64_t>(std::max<std::int64_t>(checkpoint.size_bytes, 0));
  const std::uint64_t answer = estimate_job_size(params).message_bytes;
  const std::uint64_t needed = 2 * stored + 4 * answer;
  if (needed <= max_memory_bytes) return std::nullopt;
  return Error{
      Code::kResourceExhausted,
      fmt::format("answering checkpoint {} needs about {} of memory, over this server's "
                  "{} (--max-generation-memory); read it from a replica with more",
                  checkpoint.checkpoint_id, human_bytes(needed), human_bytes(max_memory_bytes))};
}

// Where a checkpoint's CMA-ES state lives: beside its payload, so answers carry none of it.
std::string strategy_key(const std::string& blob_key) {
  return blob_key + ".strategy";
}

// The population the job breeds from, read from its stored checkpoint (with its CMA-ES
// state when `params` use CMA-ES): decoded where the bytes lie, without a message of
// every candidate first (490 MB of copies at P=100,000).
Result<std::shared_ptr<const evolution::Population>> stored_population(
    store::Store& store, const store::Checkpoint& source, const evolution::ExperimentParams& params,
    const codec::CandidateCodec& codec, unsigned threads) {
  auto bytes = stored_bytes(store, source.blob_key);
  if (!bytes.ok()) return bytes.error();
  auto stored = read_population(std::move(*bytes));
  if (!stored.ok()) return corrupt(source.checkpoint_id, stored.error());
  auto population = to_engine(codec, *stored, threads);
  if (!population.ok()) return population.error();
  if (params.evolution.algorithm != evolution::Algorithm::kGa) {
    // Absent for a checkpoint the GA bred: the engine says so.
    auto strategy = store.blobs->get(strategy_key(source.blob_key));
    if (strategy.ok()) {
      population->strategy = std::move(*strategy);
    } else if (strategy.error().code != Code::kNotFound) {
      return strategy.error();
    }
  }
  return std::make_shared<const evolution::Population>(std::move(*population));
}

// The population the job breeds from: from memory when this process bred it (perhaps
// without its genomes), else from its stored checkpoint.
Result<KeptPopulation> source_population(store::Store& store, const store::Checkpoint& source,
                                         const evolution::ExperimentParams& params,
                                         const codec::CandidateCodec& codec,
                                         RecentPopulations& recent, unsigned threads) {
  if (auto kept = recent.find(source.blob_key); kept.population) return kept;
  auto population = stored_population(store, source, params, codec, threads);
  if (!population.ok()) return population.error();
  return KeptPopulation{.population = std::move(*population)};
}

// Candidate i's interpretation as the client's request sent it back, if it is the one
// handed out (its digest is digests[i]); in `scratch` where the request splits it.
std::optional<std::string_view> handed_back(const SentInterpretations& sent,
                                            const evolution::Population& evaluated,
                                            const std::vector<std::uint64_t>& digests,
                                            std::uint32_t i, std::string& scratch) {
  const auto interpretation = sent.read(evaluated.candidates[i].id, scratch);
  if (!interpretation || interpretation_digest(*interpretation) != digests[i]) return std::nullopt;
  return interpretation;
}

// The genomes of `read` copied out of the client's request, each interpretation checked
// against the digest of the one handed out; nullopt when one is missing or differs (the
// client changed or lost it), and the checkpoint is read instead.
std::optional<evolution::Genomes> parents_from_request(const codec::CandidateCodec& binary,
                                                       const evolution::Population& evaluated,
                                                       const std::vector<std::uint64_t>& digests,
                                                       std::span<const std::uint32_t> read,
                                                       const SentInterpretations& sent,
                                                       unsigned threads) {
  const std::size_t weights = binary.shape().weight_count();
  // What was handed out, so the header is known: the weights follow it, as written.
  const std::size_t header = codec::weights_header(binary.shape()).size();
  evolution::Genomes genomes(evaluated.candidates.size(), weights, read);
  std::atomic<bool> intact = true;
  evolution::parallel_for(read.size(), threads, [&](std::size_t begin, std::size_t end) {
    std::string scratch;
    for (std::size_t k = begin; k < end && intact; ++k) {
      const std::uint32_t i = read[k];
      const auto interpretation = handed_back(sent, evaluated, digests, i, scratch);
      if (!interpretation || interpretation->size() != header + weights * sizeof(float)) {
        intact = false;
        return;
      }
      std::memcpy(genomes[i].data(), interpretation->data() + header, weights * sizeof(float));
    }
  });
  if (!intact) return std::nullopt;
  return genomes;
}

// The weight texts of `read`'s genomes in a text representation, copied out of the
// client's request where its interpretation is the one handed out (its digest matches),
// so that no parent's weight is written as text again; the rest are left to be written.
PopulationTexts texts_from_request(const codec::CandidateCodec& codec,
                                   const evolution::Population& evaluated,
                                   const std::vector<std::uint64_t>& digests,
                                   std::span<const std::uint32_t> read,
                                   const SentInterpretations& sent, unsigned threads) {
  const std::size_t slots_bytes =
      codec::WeightTexts::slots_bytes(evaluated.genomes.weights_per_genome());
  PopulationTexts texts{
      .slots = core::ByteBlock(read.size() * slots_bytes),
      .of = std::vector<std::optional<codec::WeightTexts>>(evaluated.candidates.size())};
  evolution::parallel_for(read.size(), threads, [&](std::size_t begin, std::size_t end) {
    std::string scratch;
    for (std::size_t k = begin; k < end; ++k) {
      const std::uint32_t i = read[k];
      if (!evaluated.genomes.holds(i)) continue;
      const auto interpretation = handed_back(sent, evaluated, digests, i, scratch);
      if (!interpretation) continue;
      texts.of[i] = codec.texts_from(evaluated.genomes[i], *interpretation,
                                     {texts.slots.data() + k * slots_bytes, slots_bytes});
    }
  });
  return texts;
}

// What a generation breeds from: the evaluated population and the genomes it reads.
struct BredFrom {
  std::shared_ptr<const evolution::Population> population;
  std::optional<evolution::Genomes> parents;  // copied from the request; else the population's
  const evolution::Genomes& genomes() const { return parents ? *parents : population->genomes; }
};

// The genomes a generation reads (`read`: evolution::genomes_read of its ranking): those
// of the population as kept; for one kept without them, the parents the request sent back,
// checked against the digests of those handed out; else the checkpoint's.
Result<BredFrom> bred_from(store::Store& store, const std::string& job_id,
                           const store::Checkpoint& source,
                           const evolution::ExperimentParams& params,
                           const codec::CandidateCodec& codec, const KeptPopulation& kept,
                           std::span<const std::uint32_t> read, const SentInterpretations* sent,
                           unsigned threads) {
  BredFrom from{.population = kept.population};
  if (std::ranges::all_of(read, [&](std::uint32_t i) { return from.genomes().holds(i); }))
    return from;
  if (sent != nullptr && kept.digests) {
    from.parents =
        parents_from_request(codec, *kept.population, *kept.digests, read, *sent, threads);
    if (from.parents) return from;
  }
  log::info("parents_from_checkpoint",
            {{"operation", job_id},
             {"detail", sent != nullptr ? "the request's candidates differ from those handed out"
                                        : "the request did not carry the candidates"}});
  auto stored = stored_population(store, source, params, codec, threads);
  if (!stored.ok()) return stored.error();
  return BredFrom{.population = std::move(*stored)};
}

// The stored input of a job whose metrics were not handed over in this process.
Result<std::unique_ptr<EvaluatedPopulation>> stored_metrics(store::Store& store,
                                                            const store::Job& job) {
  auto input = store.blobs->get(job.input_blob_key);
  if (!input.ok()) return input.error();
  auto parsed = json::parse(*input);
  if (!parsed.ok() || !parsed.value.is_object())
    return Error{Code::kInternal, "metrics of " + job.id + " are corrupt: " +
                                      (parsed.ok() ? "not an object" : parsed.issue->to_string())};
  auto scores = std::make_unique<EvaluatedPopulation>();
  scores->scored.reserve(parsed.value.size());
  for (const auto& [id, values] : parsed.value.items()) {
    auto& metrics = scores->scored.emplace_back(ScoredCandidate{.id = id}).metrics;
    if (!values.is_object()) continue;
    for (const auto& [name, value] : values.items()) {
      if (value.is_number()) metrics[name] = value.get<double>();
    }
  }
  return scores;
}

// The metrics the client sent, in the population's candidate order (none for a
// candidate it did not evaluate): handed over by the call that submitted the job when it
// ran in this process (`scores`), else read from the job's input. Moved out of them,
// not copied: at P=100,000 the copies took 20-25 of 55-63 ms.
Result<std::vector<evolution::MetricValues>> client_metrics(
    store::Store& store, const store::Job& job, const evolution::Population& evaluated,
    std::unique_ptr<EvaluatedPopulation> scores) {
  if (!scores) {
    auto stored = stored_metrics(store, job);
    if (!stored.ok()) return stored.error();
    scores = std::move(*stored);
  }
  auto& scored = scores->scored;
  std::vector<evolution::MetricValues> metrics(evaluated.candidates.size());
  // As the SDK sends them: every candidate, in the population's order.
  const bool in_order = scored.size() == metrics.size() &&
                        std::ranges::equal(scored, evaluated.candidates, {}, &ScoredCandidate::id,
                                           &evolution::Candidate::id);
  if (in_order) {
    for (std::size_t i = 0; i < metrics.size(); ++i)
      metrics[i] = std::move(scored[i].metrics);
    return metrics;
  }
  std::unordered_map<std::string_view, std::size_t> position;
  position.reserve(evaluated.candidates.size());
  for (std::size_t i = 0; i < evaluated.candidates.size(); ++i)
    position.emplace(evaluated.candidates[i].id, i);
  // Metrics for candidates the population does not hold would be dropped, and the
  // candidates they were meant for bred from as unevaluated: the client's evaluation
  // lost. Refused instead, naming one, so the client can send them again.
  std::set<std::string_view> unheld;
  for (auto& [id, values] : scored) {
    auto found = position.find(id);
    if (found == position.end()) {
      unheld.insert(id);
    } else {
      metrics[found->second] = std::move(values);  // a repeated id: the last counts
    }
  }
  if (!unheld.empty()) {
    return Error{Code::kInvalidArgument,
                 fmt::format("metrics name {} candidates that checkpoint {} does not hold, e.g. "
                             "'{}'; send the metrics of the population it answered",
                             unheld.size(), job.source_checkpoint, *unheld.begin())};
  }
  return metrics;
}

// esp's summary of an evaluated generation: each objective's count, min, max and mean,
// the fronts, with early_stop whether the best candidate reached the target, and
// CMA-ES's step size and restarts after learning from it. Kept on the checkpoint record
// too, so statistics over every generation read no payload.
Json generation_summary(const evolution::ExperimentParams& params,
                        const evolution::NextGeneration& result) {
  const evolution::GenerationStats& stats = result.evaluated;
  Json objectives = Json::array();
  for (const auto& summary : stats.objectives) {
    objectives.push_back({{"metric", summary.metric_name},
                          {"count", summary.count},
                          {"min", summary.min},
                          {"max", summary.max},
                          {"mean", summary.mean}});
  }
  Json json{{"objectives", objectives},
            {"fronts", stats.fronts},
            {"first_front_size", stats.first_front_size},
            {"incomplete", stats.incomplete}};
  // early_stop (validated: one objective, with a target): whether the best candidate
  // reached it, so clients know the run is over.
  const auto& objective = params.evolution.fitness.front();
  if (params.evolution.early_stop && objective.target && !stats.objectives.empty() &&
      stats.objectives.front().count > 0) {
    const auto& summary = stats.objectives.front();
    const bool reached =
        objective.maximize ? summary.max >= *objective.target : summary.min <= *objective.target;
    json["early_stop"] = {{"target", *objective.target}, {"reached", reached}};
  }
  if (result.strategy) {
    Json strategy{{"algorithm", evolution::name_of(params.evolution.algorithm)},
                  {"step_size", result.strategy->step_size},
                  {"restarts", result.strategy->restarts}};
    if (!result.strategy->restart_reason.empty())
      strategy["restarted"] = result.strategy->restart_reason;
    json["strategy"] = std::move(strategy);
  }
  return json;
}

// The original's "server_metrics" (every evaluated candidate's metrics, is_elite and,
// with several objectives, its NSGA-II rank and crowding distance), beside esp's summary.
// Written as text: a document of 100,000 entries took longer to build and dump than the
// generation took to breed.
std::string evaluation_stats(const evolution::ExperimentParams& params,
                             const evolution::Population& evaluated,
                             std::span<const evolution::MetricValues> metrics,
                             const evolution::NextGeneration& result, const Json& summary) {
  const bool several = params.evolution.fitness.size() > 1;
  const auto is_standing = [&](std::string_view name) {
    return name == "is_elite" ||
           (several && (name == "NSGA-II_rank" || name == "NSGA-II_crowding_distance"));
  };
  // The summary's members, then server_metrics: the last key, as a document would order it.
  std::string out = summary.dump();
  out.pop_back();
  out += out.size() > 1 ? ",\"server_metrics\":{" : "\"server_metrics\":{";
  append_entries(out, evaluated.candidates.size(), [&](std::size_t i, std::string& entry) {
    json::append_string(entry, evaluated.candidates[i].id);
    entry += ":{";
    for (const auto& [name, value] : metrics[i]) {
      if (is_standing(name)) continue;  // the standing's own value wins, as it always did
      json::append_string(entry, name);
      entry += ':';
      json::append_number(entry, value);
      entry += ',';
    }
    const auto& standing = result.standings[i];
    entry += standing.elite ? "\"is_elite\":true" : "\"is_elite\":false";
    if (several) {
      fmt::format_to(std::back_inserter(entry), ",\"NSGA-II_rank\":{}", standing.front);
      // JSON has no infinity: a front's boundary gets the largest finite double.
      entry += ",\"NSGA-II_crowding_distance\":";
      json::append_number(entry, std::isfinite(standing.crowding)
                                     ? standing.crowding
                                     : std::numeric_limits<double>::max());
    }
    entry += '}';
  });
  out += "}}";
  return out;
}

// Elites come back with the metrics they were evaluated with, so a client that does not
// evaluate them again (reevaluate_elites: false) still has them.
void keep_elite_metrics(const evolution::Population& evaluated,
                        std::span<const evolution::MetricValues> metrics,
                        evolution::NextGeneration& result) {
  auto& next = result.population;
  // Found by their standing and the id they keep: an index of every evaluated candidate's
  // id took 42-49 ms at P=100,000.
  std::unordered_map<std::string_view, std::size_t> elite_slot;
  for (std::size_t slot = 0; slot < next.candidates.size(); ++slot) {
    if (next.candidates[slot].elite) elite_slot.emplace(next.candidates[slot].id, slot);
  }
  for (std::size_t i = 0; i < evaluated.candidates.size() && !elite_slot.empty(); ++i) {
    if (!result.standings[i].elite) continue;
    if (auto found = elite_slot.find(evaluated.candidates[i].id); found != elite_slot.end())
      next.candidates[found->second].metrics = metrics[i];
  }
}

// One pending wait. Every step runs on its strand; the timer is the only thing that
// schedules a check, and the board's wake-up cancels it, so checks never overlap.
class JobWait : public std::enable_shared_from_this<JobWait> {
 public:
  using Check = std::function<Result<store::Job>()>;
  // Whether the wait is over for the job as it stands (by default, once it has ended).
  using Ready = std::function<bool(const store::Job&)>;
  JobWait(asio::thread_pool& pool, JobBoard& board, Check check,
          std::chrono::steady_clock::time_point deadline, Generations::JobDone done,
          Ready ready = has_ended)
      : strand_(asio::make_strand(pool)),
        timer_(strand_),
        board_(board),
        check_(std::move(check)),
        ready_(std::move(ready)),
        deadline_(deadline),
        done_(std::move(done)) {}

  void start() {
    asio::post(strand_, [self = shared_from_this()] { self->check(); });
  }

  // Checks again now (something `ready` reads changed); any thread.
  void poke() {
    asio::post(strand_, [self = shared_from_this()] { self->timer_.cancel(); });
  }

 private:
  // Re-read at least this often: the job may run in another replica.
  static constexpr auto kReread = std::chrono::seconds(1);

  void check() {
    const auto seen = board_.ended_count();
    auto job = check_();
    const auto now = std::chrono::steady_clock::now();
    if (!job.ok() || ready_(*job) || now >= deadline_ || board_.closed()) {
      done_(std::move(job));
      return;
    }
    if (!subscribed_) {
      subscribed_ = true;
      // Weak: a wait that ended by its deadline is not kept alive until the next job ends.
      board_.on_ended(seen, [weak = weak_from_this()] {
        auto self = weak.lock();
        if (!self) return;
        asio::post(self->strand_, [self] {
          self->subscribed_ = false;
          self->timer_.cancel();
        });
      });
    }
    timer_.expires_at(std::min(deadline_, now + kReread));
    timer_.async_wait(
        [self = shared_from_this()](const boost::system::error_code&) { self->check(); });
  }

  asio::strand<asio::thread_pool::executor_type> strand_;
  asio::steady_timer timer_;
  JobBoard& board_;
  Check check_;
  Ready ready_;
  std::chrono::steady_clock::time_point deadline_;
  Generations::JobDone done_;
  bool subscribed_ = false;
};

// Milliseconds since the previous lap.
class Stopwatch {
 public:
  double lap_ms() {
    const auto now = std::chrono::steady_clock::now();
    const double ms = std::chrono::duration<double, std::milli>(now - last_).count();
    last_ = now;
    return ms;
  }

 private:
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

}  // namespace

bool has_ended(const store::Job& job) {
  return job.status != store::JobStatus::kQueued && job.status != store::JobStatus::kRunning;
}

Error failure_of(const store::Job& job) {
  if (const auto detail = public_detail(job.error_code); !detail.empty()) {
    return Error{job.error_code,
                 fmt::format("the generation failed: {} (operation {})", detail, job.id)};
  }
  return Error{job.error_code, job.error};
}

// The request's parameters, or the experiment's when it sends none.
Result<std::string> Generations::params_for(const Caller& caller,
                                            const GenerationRequest& request) {
  if (request.params_json) return *request.params_json;
  auto experiment = store_.experiments->find(caller.subject, request.experiment_id);
  if (!experiment.ok()) return experiment.error();
  if (!experiment->has_value())
    return Error{Code::kNotFound,
                 fmt::format("no experiment {}; its first generation request must carry its params",
                             request.experiment_id)};
  return std::move((*experiment)->params_json);
}

Result<store::Job> Generations::submit(const Caller& caller, GenerationRequest request) {
  const std::string& experiment_id = request.experiment_id;
  auto params_json = params_for(caller, request);
  if (!params_json.ok()) return params_json.error();
  auto params = check_experiment(experiment_id, *params_json);
  if (!params.ok()) return params.error();
  if (auto too_big = check_job_size(*params, limits_.max_memory_bytes)) return *too_big;
  auto experiment = store_.experiments->create_if_absent({.owner = caller.subject,
                                                          .id = experiment_id,
                                                          .params_json = *params_json,
                                                          .created_at = store::unix_millis()});
  if (!experiment.ok()) return experiment.error();
  if (auto different = check_same_network(experiment->experiment, *params_json, *params))
    return *different;

  std::string source;
  std::string input_key;
  std::string input;
  if (request.evaluated) {
    source = request.evaluated->checkpoint_id;
    // A checkpoint still being stored is promised by its job, whose worker waits for it.
    auto checkpoint = look_up_checkpoint(store_, caller.subject, experiment_id, source);
    if (!checkpoint.ok()) return checkpoint.error();
    if (!checkpoint->recorded && !checkpoint->promised_by) {
      return Error{Code::kNotFound,
                   fmt::format("experiment {} has no checkpoint {}", experiment_id, source)};
    }
    const std::string& bred_with = checkpoint->recorded ? checkpoint->recorded->params_json
                                                        : checkpoint->promised_by->params_json;
    if (auto switched = check_strategy_continues(source, bred_with, *params)) return *switched;
    input = metrics_input(*request.evaluated);
  }
  const std::string key = auth::sha256_hex(caller.subject + '\0' + experiment_id + '\0' + source +
                                           '\0' + *params_json + '\0' + input);
  if (!source.empty()) {
    input_key = "inputs/" + key + ".json";
    if (auto stored = store_.blobs->put(input_key, input); !stored.ok()) return stored.error();
    fresh_.offer_input(
        input_key,
        {.metrics = std::make_unique<EvaluatedPopulation>(std::move(*request.evaluated)),
         .interpretations = limits_.runs_jobs ? std::move(request.interpretations) : nullptr});
  }
  auto job_id = auth::random_id(16);
  if (!job_id.ok()) return job_id.error();
  auto job = store_.jobs->enqueue({.id = "op_" + *job_id,
                                   .owner = caller.subject,
                                   .experiment_id = experiment_id,
                                   .idempotency_key = key,
                                   .source_checkpoint = source,
                                   .params_json = *params_json,
                                   .input_blob_key = input_key,
                                   .created_at = store::unix_millis()});
  if (job.ok()) board_.job_queued();
  return job;
}

void Generations::when_ended(const Caller& caller, const std::string& job_id,
                             std::chrono::steady_clock::time_point deadline, JobDone done) {
  std::make_shared<JobWait>(
      pool_, board_, [this, caller, job_id] { return operation(caller, job_id); }, deadline,
      std::move(done))
      ->start();
}

void Generations::when_bred(const Caller& caller, const std::string& job_id,
                            std::chrono::steady_clock::time_point deadline, PopulationDone done) {
  auto handed_over = [this, job_id, done = std::move(done)](Result<store::Job> job) {
    auto handed = fresh_.take(job_id);  // ends the wait whatever happened
    if (!job.ok()) return done(job.error());
    Ended ended{.job = std::move(*job), .population = {}};
    const bool succeeded = ended.job.status == store::JobStatus::kSucceeded;
    // Handed over while its checkpoint is being stored, or after. Every run of a job
    // makes the same bits (run_generation_job), so a worker that lost its lease handed
    // over what the recorded run stored; the id is checked all the same.
    if (handed && (succeeded ? handed->checkpoint_id == ended.job.result_checkpoint
                             : !has_ended(ended.job))) {
      ended.population = std::move(handed->bytes);
      return done(std::move(ended));
    }
    if (!has_ended(ended.job)) {
      return done(Error{
          Code::kDeadlineExceeded,
          "operation " + job_id + " is still " + std::string(store::name_of(ended.job.status))});
    }
    if (!succeeded) return done(std::move(ended));
    auto population =
        answer_bytes(ended.job.owner, ended.job.experiment_id, ended.job.result_checkpoint);
    if (!population.ok()) return done(population.error());
    ended.population = std::move(*population);
    done(std::move(ended));
  };
  auto wait = std::make_shared<JobWait>(
      pool_, board_, [this, caller, job_id] { return operation(caller, job_id); }, deadline,
      std::move(handed_over),
      [this, job_id](const store::Job& job) {
        return has_ended(job) || fresh_.answerable(job_id);
      });
  fresh_.await(job_id, [weak = std::weak_ptr<JobWait>(wait)] {
    if (auto waiting = weak.lock()) waiting->poke();
  });
  wait->start();
}

Result<store::Job> Generations::operation(const Caller& caller, const std::string& job_id) {
  auto job = store_.jobs->find(job_id);
  if (!job.ok()) return job.error();
  if (!job->has_value() || ((*job)->owner != caller.subject && !caller.admin))
    return Error{Code::kNotFound, "no operation " + job_id};
  return **job;
}

Result<store::Job> Generations::cancel(const Caller& caller, const std::string& job_id) {
  auto job = operation(caller, job_id);
  if (!job.ok()) return job.error();
  if (job->owner != caller.subject)
    return Error{Code::kPermissionDenied,
                 "only the owner of operation " + job_id + " may cancel it"};
  auto cancelled = store_.jobs->cancel(job_id);
  if (!cancelled.ok()) return cancelled.error();
  if (!cancelled->has_value()) return Error{Code::kNotFound, "no operation " + job_id};
  board_.job_ended();
  return **cancelled;
}

Result<Generations::Found> Generations::find_checkpoint(const std::string& owner,
                                                        const std::string& experiment_id,
                                                        const std::string& checkpoint_id) {
  auto checkpoint = await_checkpoint(store_, owner, experiment_id, checkpoint_id,
                                     std::chrono::steady_clock::now() + kAwaitPromised);
  if (!checkpoint.ok()) return checkpoint.error();
  if (!checkpoint->has_value()) {
    return Error{Code::kNotFound,
                 fmt::format("experiment {} has no checkpoint {}", experiment_id, checkpoint_id)};
  }
  // Validated before it was stored; a record that no longer reads is the server's fault.
  auto params = evolution::parse_params((*checkpoint)->params_json);
  if (!params.ok())
    return Error{Code::kInternal, "the parameters of checkpoint " + checkpoint_id +
                                      " no longer read: " + params.error().message};
  if (auto too_big = check_answer_size(**checkpoint, *params, limits_.max_memory_bytes))
    return *too_big;
  return Found{std::move(**checkpoint), std::move(*params)};
}

Result<Generations::Opened> Generations::open_checkpoint(const std::string& owner,
                                                         const std::string& experiment_id,
                                                         const std::string& checkpoint_id) {
  auto found = find_checkpoint(owner, experiment_id, checkpoint_id);
  if (!found.ok()) return found.error();
  auto codec = codec::CandidateCodec::create(found->params);
  if (!codec.ok()) return codec.error();
  auto stored = stored_bytes(store_, found->record.blob_key);
  if (!stored.ok()) return stored.error();
  return Opened{std::move(*found), std::move(*codec), std::move(*stored)};
}

Result<pb::PopulationResponse> Generations::checkpoint(const Caller& caller,
                                                       const std::optional<std::string>& owner,
                                                       const std::string& experiment_id,
                                                       const std::string& checkpoint_id,
                                                       Interpretations interpretations) {
  auto whose = owner_for(caller, owner);
  if (!whose.ok()) return whose.error();
  return load_checkpoint(*whose, experiment_id, checkpoint_id, interpretations);
}

Result<pb::PopulationResponse> Generations::load_checkpoint(const std::string& owner,
                                                            const std::string& experiment_id,
                                                            const std::string& checkpoint_id,
                                                            Interpretations interpretations) {
  // Left out, they are neither copied out of the stored bytes nor written in the caller's
  // representation only to be dropped: in the SDK's JSON that was every weight formatted,
  // 1.6 GB at P=100,000, for a view of ids and metrics.
  auto bytes = answer_bytes(owner, experiment_id, checkpoint_id, interpretations);
  if (!bytes.ok()) return bytes.error();
  auto view = read_population(std::move(*bytes));
  if (!view.ok()) return corrupt(checkpoint_id, view.error());
  return population_message(*view, interpretations == Interpretations::kIncluded);
}

Result<Generations::CheckpointView> Generations::checkpoint_view(
    const Caller& caller, const std::optional<std::string>& owner, const std::string& experiment_id,
    const std::string& checkpoint_id) {
  auto whose = owner_for(caller, owner);
  if (!whose.ok()) return whose.error();
  auto opened = open_checkpoint(*whose, experiment_id, checkpoint_id);
  if (!opened.ok()) return opened.error();
  auto view = read_population(std::move(opened->stored));
  if (!view.ok()) return corrupt(checkpoint_id, view.error());
  CheckpointView answer{.population = std::move(*view)};
  const codec::CandidateCodec& codec = opened->codec;
  if (codec.is_binary()) return answer;
  // Each candidate as recoded_bytes writes it, one at a time: at P=100,000 in the SDK's
  // JSON that is 1.6 GB never written whole.
  answer.interpretation = {
      .write = [codec, stored_codec = codec::CandidateCodec::binary(opened->found.params.network),
                checkpoint_id](const codec::CandidateView& candidate,
                               std::string& buffer) -> Result<std::string_view> {
        auto written = recoded_interpretation(codec, stored_codec, candidate, buffer);
        if (!written.ok()) return corrupt(checkpoint_id, written.error());
        return written;
      },
      .largest = codec.largest_encoding()};
  return answer;
}

Result<SharedBytes> Generations::checkpoint_bytes(const Caller& caller,
                                                  const std::optional<std::string>& owner,
                                                  const std::string& experiment_id,
                                                  const std::string& checkpoint_id) {
  auto whose = owner_for(caller, owner);
  if (!whose.ok()) return whose.error();
  return answer_bytes(*whose, experiment_id, checkpoint_id);
}

Result<SharedBytes> Generations::answer_bytes(const std::string& owner,
                                              const std::string& experiment_id,
                                              const std::string& checkpoint_id,
                                              Interpretations interpretations) {
  auto opened = open_checkpoint(owner, experiment_id, checkpoint_id);
  if (!opened.ok()) return opened.error();
  if (opened->codec.is_binary() || interpretations == Interpretations::kLeftOut)
    return std::move(opened->stored);
  const unsigned threads =
      evolution::threads_for_work(opened->stored.size() / sizeof(float), kWeightsPerThread,
                                  std::max(1U, std::thread::hardware_concurrency()));
  auto answer =
      recoded_bytes(opened->codec, codec::CandidateCodec::binary(opened->found.params.network),
                    opened->stored.view(), threads);
  if (!answer.ok() && answer.error().code == Code::kInternal)
    return corrupt(checkpoint_id, answer.error());
  return answer;
}

Result<store::Checkpoint> run_generation_job(store::Store& store, const store::Job& job,
                                             unsigned cores, RecentPopulations& recent,
                                             FreshPopulations& fresh, JobReport& report) {
  Stopwatch watch;
  auto params = evolution::parse_params(job.params_json);
  if (!params.ok()) return params.error();
  auto codec = codec::CandidateCodec::create(*params);
  if (!codec.ok()) return codec.error();
  const unsigned threads = evolution::threads_for_work(
      evolution::largest_population(params->evolution) * codec->shape().weight_count(),
      kWeightsPerThread, cores);
  const auto stored_codec = codec::CandidateCodec::binary(params->network);
  const evolution::Seed seed =
      params->evolution.seed.value_or(evolution::seed_from(job.experiment_id));
  evolution::Population next;
  std::string stats;    // none on the seed answer, as the original
  std::string summary;  // the same without server_metrics, for the checkpoint record
  // What a text answer copies its parents' weights from (population_bytes.h).
  std::shared_ptr<const evolution::Population> bred_from_population;
  std::optional<PopulationTexts> parent_texts;
  if (job.source_checkpoint.empty()) {
    next = evolution::initial_population(*params, seed, {.threads = threads});
    report.engine_ms = watch.lap_ms();
  } else {
    // Promised when the request came, and stored by now unless its job is slow or was
    // run again after its process died.
    auto source = await_checkpoint(store, job.owner, job.experiment_id, job.source_checkpoint,
                                   std::chrono::steady_clock::now() + kAwaitSourceInJob);
    if (!source.ok()) return source.error();
    if (!source->has_value())
      return Error{Code::kFailedPrecondition,
                   "checkpoint " + job.source_checkpoint +
                       " is not stored: it was deleted, or the operation making it failed"};
    OfferedInput input = fresh.take_input(job.input_blob_key);
    auto kept = source_population(store, **source, *params, stored_codec, recent, threads);
    if (!kept.ok()) return kept.error();
    auto metrics = client_metrics(store, job, *kept->population, std::move(input.metrics));
    if (!metrics.ok()) return metrics.error();
    const auto scores = evolution::Scores::from(*metrics, params->evolution.fitness);
    const auto ranking = evolution::rank_candidates(scores, params->evolution.fitness);
    const std::span<const std::uint32_t> read(ranking.order.data(),
                                              evolution::genomes_read(*params, ranking));
    auto from = bred_from(store, job.id, **source, *params, stored_codec, *kept, read,
                          input.interpretations.get(), threads);
    if (!from.ok()) return from.error();
    // A GA child copies most of its weights from its parents (CMA-ES samples afresh): in
    // a text representation their texts come out of the request, which carries them.
    // They are read beside the breeding, which needs none of them, on half the threads:
    // neither scales well over threads (serial parts, memory), and on two cores side by
    // side they took less than one after the other.
    std::future<PopulationTexts> reading;
    unsigned breeding_threads = threads;
    if (codec->keeps_texts() && params->evolution.algorithm == evolution::Algorithm::kGa &&
        input.interpretations != nullptr && kept->text_digests &&
        from->population == kept->population &&
        kept->text_digests->size() == from->population->candidates.size()) {
      const unsigned reading_threads = std::max(1U, threads / 2);
      breeding_threads = std::max(1U, threads - reading_threads);
      reading = std::async(std::launch::async, [&, reading_threads] {
        auto texts = texts_from_request(*codec, *from->population, *kept->text_digests, read,
                                        *input.interpretations, reading_threads);
        input.interpretations.reset();  // the request goes once its texts are read
        return texts;
      });
    } else {
      input.interpretations.reset();  // the request goes now, before the generation is bred
    }
    report.load_ms = watch.lap_ms();
    const evolution::Population& evaluated = *from->population;
    auto result = evolution::next_generation(*params,
                                             evolution::Evaluated{.population = evaluated,
                                                                  .genomes = from->genomes(),
                                                                  .scores = scores,
                                                                  .ranking = ranking},
                                             seed, {.threads = breeding_threads});
    if (reading.valid()) {
      parent_texts = reading.get();
      report.texts_from_request = static_cast<std::size_t>(std::ranges::count_if(
          parent_texts->of, [](const auto& texts) { return texts.has_value(); }));
    }
    if (!result.ok()) return result.error();
    from->parents.reset();
    keep_elite_metrics(evaluated, *metrics, *result);
    for (const auto& warning : result->warnings)
      log::warn("generation_warning", {{"operation", job.id}, {"detail", warning}});
    const Json summary_json = generation_summary(*params, *result);
    summary = summary_json.dump();
    stats = evaluation_stats(*params, evaluated, *metrics, *result, summary_json);
    next = std::move(result->population);
    if (codec->keeps_texts()) bred_from_population = from->population;
    report.engine_ms = watch.lap_ms();
  }
  const std::string checkpoint_id = checkpoint_id_for(job, next.generation);
  const PopulationFields fields{.experiment_id = job.experiment_id,
                                .checkpoint_id = checkpoint_id,
                                .evaluation_stats = stats};
  // A call in this process awaiting the job gets the population in the experiment's
  // representation. A big one goes before its checkpoint is stored (see
  // kHandOverBeforeStoringFrom); a small one once stored, before the job is recorded, so
  // the call finds it when it wakes.
  const bool before_storing = next.genomes.held_bytes() >= kHandOverBeforeStoringFrom;
  auto hand_over = [&](SharedBytes bytes) {
    fresh.offer(job.id, {.checkpoint_id = checkpoint_id,
                         .bytes = std::move(bytes),
                         .before_storing = before_storing});
  };
  const bool awaited = fresh.awaited(job.id);
  // The answer in a representation other than esp's layout, and its digests for the next
  // request to be checked against (texts_from_request).
  auto text_digests =
      codec->keeps_texts() && awaited ? std::make_shared<std::vector<std::uint64_t>>() : nullptr;
  const auto write_answer = [&] {
    return population_bytes(*codec, next, fields,
                            {.threads = threads,
                             .bred_from = bred_from_population.get(),
                             .bred_from_texts = parent_texts ? &*parent_texts : nullptr});
  };
  // Taken from the answer once written, after it went to the call for a big one. Without
  // them the next generation writes its parents' texts afresh, as for a call not awaited.
  const auto take_digests = [&](const SharedBytes& answer, unsigned digest_threads) {
    if (!text_digests) return;
    auto digests = interpretation_digests(answer, digest_threads);
    if (!digests.ok()) {
      log::error("answer_digests_failed",
                 {{"operation", job.id}, {"detail", digests.error().message}});
      text_digests.reset();
      return;
    }
    *text_digests = std::move(*digests);
  };
  const bool text_answer = awaited && !codec->is_binary();
  Result<SharedBytes> answered = SharedBytes{};
  if (text_answer && before_storing) {
    // First, with every thread: the checkpoint is encoded and stored while the call
    // sends it and the client reads it, rather than beside its writing on the same cores.
    answered = write_answer();
    if (!answered.ok()) return answered.error();
    hand_over(*answered);
    report.handed_over = true;
    parent_texts.reset();
    report.answer_ms = watch.lap_ms();
    // One thread: the other core is the one sending it.
    take_digests(*answered, 1);
  }
  // Stored in esp's binary layout, which is also the answer of a binary experiment. A
  // population too large to keep whole gives back its genomes as they are written and is
  // kept by its digests instead (recent_populations.h).
  const bool let_go = codec->is_binary() && !recent.keeps_genomes(next.genomes.held_bytes());
  auto digests = let_go ? std::make_shared<std::vector<std::uint64_t>>() : nullptr;
  auto payload = population_bytes(
      stored_codec, next, fields,
      {.threads = threads, .digests = digests.get(), .release = let_go ? &next.genomes : nullptr});
  if (!payload.ok()) return payload.error();
  if (let_go)
    next.genomes =
        evolution::Genomes(next.candidates.size(), next.genomes.weights_per_genome(), {});
  report.encode_ms = watch.lap_ms();
  std::future<Result<SharedBytes>> answer;  // a small one, written while the disk works
  if (awaited && codec->is_binary() && before_storing) {
    hand_over(*payload);
    report.handed_over = true;
  } else if (text_answer && !before_storing) {
    answer = std::async(std::launch::async, [&] {
      auto bytes = write_answer();
      if (bytes.ok()) take_digests(*bytes, threads);
      return bytes;
    });
  }
  // One key per attempt: a worker that lost its lease and finishes late writes beside the
  // payload its successor recorded, never over it.
  const std::string blob_key = "checkpoints/" + auth::sha256_hex(job.owner).substr(0, 16) + "/" +
                               job.id + "-" + std::to_string(job.attempts) + ".pb";
  // The job lets go of its bytes as they are written (fsync reads none of them): the next
  // request may arrive while a big one is still being stored, at P=100,000 490 MB each.
  // What the call is still sending goes once sent.
  const std::size_t payload_size = payload->size();
  const bool payload_answered_after = awaited && !before_storing && codec->is_binary();
  auto stored = store.blobs->put_in_pieces(blob_key, payload->view(), [&](std::size_t written) {
    if (payload_answered_after) return;
    if (written < payload_size) {
      payload->give_back_front(written);  // when no call holds them still
    } else {
      *payload = SharedBytes{};
    }
  });
  if (stored.ok() && !next.strategy.empty())
    stored = store.blobs->put(strategy_key(blob_key), next.strategy);
  report.store_ms = watch.lap_ms();
  if (answer.valid()) answered = answer.get();  // before returning: the task reads `next`
  if (!stored.ok()) return stored.error();
  if (!answered.ok()) return answered.error();
  if (payload_answered_after) {
    hand_over(*payload);
  } else if (awaited && !before_storing) {
    hand_over(std::move(*answered));
  }
  report.answer_ms += watch.lap_ms();
  const int generation = next.generation;
  recent.add(job.owner + '\0' + job.experiment_id, blob_key,
             {.population = std::make_shared<const evolution::Population>(std::move(next)),
              .digests = std::move(digests),
              .text_digests = std::move(text_digests)});
  return store::Checkpoint{.owner = job.owner,
                           .experiment_id = job.experiment_id,
                           .checkpoint_id = checkpoint_id,
                           .generation = generation,
                           .job_id = job.id,
                           .blob_key = blob_key,
                           .size_bytes = static_cast<std::int64_t>(payload_size),
                           .params_json = job.params_json,
                           .created_at = store::unix_millis(),
                           .stats_json = std::move(summary)};
}

}  // namespace esp::population
