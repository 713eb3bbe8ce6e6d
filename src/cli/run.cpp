#include "cli/run.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/plot.h"
#include "codec/candidate_codec.h"
#include "evolution/network.h"
#include "evolution/params.h"

namespace esp::cli {
namespace {

using Json = nlohmann::json;
namespace pb = ::population;

struct Evaluated {
  std::vector<std::vector<float>> genomes;
  std::vector<evolution::MetricValues> metrics;
};

// Decodes every candidate and evaluates it, on every core.
Result<Evaluated> evaluate(const Domain& domain, const codec::CandidateCodec& codec,
                           const pb::PopulationResponse& population) {
  const evolution::NetworkShape& shape = codec.shape();
  Evaluated result;
  for (const auto& candidate : population.population()) {
    auto weights = codec.decode(candidate.interpretation());
    if (!weights.ok())
      return Error{Code::kInvalidArgument,
                   "candidate " + candidate.id() + ": " + weights.error().message};
    result.genomes.push_back(std::move(*weights));
  }
  result.metrics.resize(result.genomes.size());
  std::atomic<std::size_t> next{0};
  std::vector<std::jthread> threads;
  const unsigned count = std::max(1U, std::thread::hardware_concurrency());
  for (unsigned t = 0; t < count; ++t) {
    threads.emplace_back([&] {
      evolution::ForwardPass pass(shape);
      for (std::size_t i = next++; i < result.genomes.size(); i = next++)
        result.metrics[i] = domain.evaluate(pass, result.genomes[i], population.generation_count());
    });
  }
  threads.clear();
  return result;
}

GenerationRow row_of(const pb::PopulationResponse& population,
                     const std::vector<evolution::Objective>& fitness, const Evaluated& evaluated) {
  GenerationRow row{.generation = population.generation_count(),
                    .checkpoint_id = population.checkpoint_id()};
  for (const auto& objective : fitness) {
    double best = objective.maximize ? -std::numeric_limits<double>::infinity()
                                     : std::numeric_limits<double>::infinity();
    double total = 0;
    for (const auto& metrics : evaluated.metrics) {
      const double value = metrics.at(objective.metric_name);
      best = objective.maximize ? std::max(best, value) : std::min(best, value);
      total += value;
    }
    row.best.push_back(best);
    row.mean.push_back(total / static_cast<double>(evaluated.metrics.size()));
  }
  return row;
}

std::string objectives_text(const std::vector<evolution::Objective>& fitness,
                            const GenerationRow& row) {
  std::string text;
  for (std::size_t i = 0; i < fitness.size(); ++i) {
    text += fmt::format(" {} best={:.4g} mean={:.4g}", fitness[i].metric_name, row.best[i],
                        row.mean[i]);
  }
  return text;
}

void report(std::ostream& out, const RunOptions& options, int last_generation,
            const std::vector<evolution::Objective>& fitness, const GenerationRow& row,
            std::size_t candidates, double elapsed_s, int done, int total) {
  if (!options.terminal) {
    out << fmt::format("generation {}/{} checkpoint={} candidates={}{} elapsed={:.1f}s\n",
                       row.generation, last_generation, row.checkpoint_id, candidates,
                       objectives_text(fitness, row), elapsed_s);
    out.flush();
    return;
  }
  constexpr int kWidth = 24;
  const int filled = total == 0 ? kWidth : kWidth * done / total;
  const double eta = done == 0 ? 0 : elapsed_s / done * (total - done);
  out << fmt::format("\r\033[K[{}{}] gen {}/{}{} ETA {:.0f}s", std::string(filled, '#'),
                     std::string(kWidth - filled, '.'), row.generation, last_generation,
                     objectives_text(fitness, row), eta);
  out.flush();
}

Result<bool> write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream file(path);
  file << text;
  if (!file) return Error{Code::kUnavailable, "cannot write " + path.string()};
  return true;
}

// The final first front (best first), as genomes and metrics.
std::vector<std::size_t> first_front(const std::vector<evolution::Objective>& fitness,
                                     const Evaluated& evaluated) {
  const auto scores = evolution::Scores::from(evaluated.metrics, fitness);
  const auto ranking = evolution::rank_candidates(scores, fitness);
  std::vector<std::size_t> front;
  for (auto index : ranking.order) {
    if (ranking.front[index] == 0) front.push_back(index);
  }
  return front;
}

// early_stop: the best candidate reached the single objective's target.
bool target_reached(const evolution::EvolutionSpec& evolution, const Evaluated& evaluated) {
  if (!evolution.early_stop || evolution.fitness.size() != 1) return false;
  const auto& objective = evolution.fitness.front();
  if (!objective.target) return false;
  for (const auto& metrics : evaluated.metrics) {
    auto value = metrics.find(objective.metric_name);
    if (value == metrics.end()) continue;
    if (objective.maximize ? value->second >= *objective.target
                           : value->second <= *objective.target)
      return true;
  }
  return false;
}

}  // namespace

Result<RunSummary> run_experiment(Server& server, const Domain& domain, const RunOptions& options,
                                  std::ostream& out) {
  auto params = evolution::parse_params(options.params_json);
  if (!params.ok())
    return Error{Code::kInvalidArgument, "invalid parameters: " + params.error().message};
  auto codec = codec::CandidateCodec::create(*params);
  if (!codec.ok()) return codec.error();
  const evolution::NetworkShape& shape = codec->shape();
  if (auto wrong = domain.check_network(shape)) return Error{Code::kInvalidArgument, *wrong};
  const auto& fitness = params->evolution.fitness;
  const int last_generation =
      options.generations > 0 ? options.generations : params->evolution.nb_generations;

  std::filesystem::create_directories(options.output_dir);
  const auto csv_path = options.output_dir / "stats.csv";
  std::vector<GenerationRow> rows =
      options.resume.empty() ? std::vector<GenerationRow>{} : read_stats_csv(csv_path, fitness);

  pb::PopulationRequest request;
  request.set_version("v1");
  request.set_experiment_id(options.experiment_id);
  request.set_config(options.params_json);
  auto population = options.resume.empty()
                        ? server.next_population(request)
                        : server.get_population(options.experiment_id, options.resume);
  if (!population.ok()) return population.error();

  const auto started = std::chrono::steady_clock::now();
  const int first_generation = population->generation_count();
  Evaluated evaluated;
  std::int64_t evaluations = 0;
  for (;;) {
    auto scored = evaluate(domain, *codec, *population);
    if (!scored.ok()) return scored.error();
    evaluated = std::move(*scored);
    evaluations += static_cast<std::int64_t>(evaluated.genomes.size());
    std::erase_if(rows, [&](const GenerationRow& r) {
      return r.generation >= population->generation_count();
    });
    rows.push_back(row_of(*population, fitness, evaluated));
    if (auto written = write_file(csv_path, stats_csv(fitness, rows)); !written.ok())
      return written.error();
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    report(out, options, last_generation, fitness, rows.back(), evaluated.genomes.size(), elapsed,
           population->generation_count() - first_generation + 1,
           last_generation - first_generation + 1);
    if (population->generation_count() >= last_generation) break;
    if (target_reached(params->evolution, evaluated)) {
      out << "target reached: stopping early (early_stop)\n";
      break;
    }
    if (options.max_evaluations > 0 && evaluations >= options.max_evaluations) {
      out << fmt::format("{} candidates evaluated: stopping (--max-evaluations)\n", evaluations);
      break;
    }

    auto* sent = request.mutable_evaluated_population_response();
    sent->CopyFrom(*population);
    sent->clear_evaluation_stats();
    for (int i = 0; i < sent->population_size(); ++i)
      sent->mutable_population(i)->set_metrics(
          Json(evaluated.metrics[static_cast<std::size_t>(i)]).dump());
    population = server.next_population(request);
    if (!population.ok()) return population.error();
  }
  if (options.terminal) out << "\n";

  const auto front = first_front(fitness, evaluated);
  std::vector<std::span<const float>> front_genomes;
  std::vector<evolution::MetricValues> front_metrics;
  for (auto index : front) {
    front_genomes.emplace_back(evaluated.genomes[index]);
    front_metrics.push_back(evaluated.metrics[index]);
  }
  evolution::ForwardPass pass(shape);
  RunSummary summary{.last_checkpoint = population->checkpoint_id(),
                     .generation = population->generation_count(),
                     .evaluations = evaluations,
                     .validation = domain.validate(pass, front_genomes)};
  if (auto written = write_file(options.output_dir / "fitness.svg",
                                fitness_svg(fitness, rows, evaluated.metrics, front));
      !written.ok())
    return written.error();
  Json best = front_metrics.front();
  const Json report_json{{"experiment_id", options.experiment_id},
                         {"domain", domain.name()},
                         {"generation", summary.generation},
                         {"evaluations", summary.evaluations},
                         {"checkpoint_id", summary.last_checkpoint},
                         {"best_metrics", best},
                         {"front_size", front.size()},
                         {"validation",
                          {{"measure", summary.validation.measure},
                           {"value", summary.validation.value},
                           {"target", summary.validation.target},
                           {"met", summary.validation.met}}}};
  if (auto written = write_file(options.output_dir / "summary.json", report_json.dump(2) + "\n");
      !written.ok())
    return written.error();
  return summary;
}

}  // namespace esp::cli
