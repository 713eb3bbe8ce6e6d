#include "evolution/engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "evolution/initialization.h"
#include "evolution/network.h"
#include "evolution/operators.h"
#include "evolution/parallel.h"
#include "evolution/selection.h"

namespace esp::evolution {
namespace {

// Independent random streams, keyed so that no two uses within one generation collide.
enum class Purpose : std::uint64_t { kInitial = 1, kSelection = 2, kChild = 3 };

RandomStream stream_for(Seed seed, int generation, Purpose purpose, std::size_t index = 0) {
  std::uint64_t key = mix_key(seed, static_cast<std::uint64_t>(generation));
  key = mix_key(key, static_cast<std::uint64_t>(purpose));
  return RandomStream(mix_key(key, index));
}

std::string candidate_id(int generation, std::size_t position) {
  return fmt::format("{}_{}", generation, position + 1);
}

constexpr std::size_t kWarningsShown = 10;

std::vector<std::string> incomplete_warnings(const Population& evaluated, const Ranking& ranking) {
  std::vector<std::string> warnings;
  for (std::size_t k = 0; k < ranking.incomplete.size() && k < kWarningsShown; ++k) {
    warnings.push_back(fmt::format("candidate {}: missing or non-finite metric; ranked last",
                                   evaluated.candidates[ranking.incomplete[k]].id));
  }
  if (ranking.incomplete.size() > kWarningsShown) {
    warnings.push_back(fmt::format("{} more candidates ranked last for missing metrics",
                                   ranking.incomplete.size() - kWarningsShown));
  }
  return warnings;
}

GenerationStats summarize(const ExperimentParams& params, const Scores& scores,
                          const Ranking& ranking) {
  GenerationStats stats;
  stats.incomplete = ranking.incomplete.size();
  for (std::size_t j = 0; j < scores.objectives(); ++j) {
    ObjectiveSummary summary{.metric_name = params.evolution.fitness[j].metric_name,
                             .min = std::numeric_limits<double>::infinity(),
                             .max = -std::numeric_limits<double>::infinity()};
    double sum = 0;
    for (std::size_t i = 0; i < scores.candidates(); ++i) {
      double value = scores.at(i, j);
      if (!std::isfinite(value)) continue;
      ++summary.count;
      sum += value;
      summary.min = std::min(summary.min, value);
      summary.max = std::max(summary.max, value);
    }
    if (summary.count == 0) summary.min = summary.max = 0;
    summary.mean = summary.count == 0 ? 0 : sum / static_cast<double>(summary.count);
    stats.objectives.push_back(summary);
  }
  std::size_t complete = scores.candidates() - ranking.incomplete.size();
  for (std::size_t k = 0; k < complete; ++k) {
    std::uint32_t front = ranking.front[ranking.order[k]];
    stats.fronts = std::max<std::size_t>(stats.fronts, front + 1);
    if (front == 0) ++stats.first_front_size;
  }
  return stats;
}

// Parents come from the best candidates: remove_population_pct of the worst are left out,
// and so are incomplete candidates while complete ones exist.
ParentPool parent_pool(const ExperimentParams& params, const Scores& scores,
                       const Ranking& ranking) {
  const std::size_t n = ranking.order.size();
  const auto removed = static_cast<std::size_t>(
      std::floor(static_cast<double>(n) * params.evolution.remove_population_pct));
  std::size_t eligible = std::max<std::size_t>(1, n - std::min(removed, n));
  const std::size_t complete = n - ranking.incomplete.size();
  if (complete > 0) eligible = std::min(eligible, complete);
  ParentPool pool;
  pool.candidates.assign(ranking.order.begin(), ranking.order.begin() + std::ptrdiff_t(eligible));
  if (params.evolution.parent_selection != ParentSelection::kProportion) return pool;
  if (params.evolution.fitness.size() == 1 && complete > 0) {
    // Fitness shifted so the worst eligible parent keeps a small share, not zero.
    const bool maximize = params.evolution.fitness.front().maximize;
    auto fitness = [&](std::uint32_t c) { return maximize ? scores.at(c, 0) : -scores.at(c, 0); };
    double worst = fitness(pool.candidates.back());
    double best = fitness(pool.candidates.front());
    double floor = (best - worst) / static_cast<double>(eligible);
    for (std::uint32_t c : pool.candidates)
      pool.weights.push_back(fitness(c) - worst + floor);
  } else {
    for (std::uint32_t c : pool.candidates)
      pool.weights.push_back(1.0 / (ranking.front[c] + 1.0));
  }
  return pool;
}

std::vector<std::uint32_t> choose_elites(const ExperimentParams& params, const Ranking& ranking) {
  const std::size_t complete = ranking.order.size() - ranking.incomplete.size();
  const std::size_t count =
      std::min<std::size_t>({static_cast<std::size_t>(params.evolution.nb_elites), complete,
                             static_cast<std::size_t>(params.evolution.population_size)});
  return {ranking.order.begin(), ranking.order.begin() + std::ptrdiff_t(count)};
}

std::optional<Error> check_inputs(const ExperimentParams& params, const NetworkShape& shape,
                                  const Population& evaluated, const Scores& scores) {
  const std::size_t n = evaluated.candidates.size();
  if (n == 0) return Error{Code::kInvalidArgument, "the evaluated population is empty"};
  if (evaluated.genomes.size() != n) {
    return Error{Code::kInvalidArgument, "every candidate needs exactly one genome"};
  }
  if (evaluated.genomes.weights_per_genome() != shape.weight_count()) {
    return Error{Code::kInvalidArgument,
                 fmt::format("candidates have {} weights but the network needs {}",
                             evaluated.genomes.weights_per_genome(), shape.weight_count())};
  }
  if (scores.candidates() != n || scores.objectives() != params.evolution.fitness.size()) {
    return Error{
        Code::kInvalidArgument,
        fmt::format("scores for {} candidates x {} objectives do not match {} x {}",
                    scores.candidates(), scores.objectives(), n, params.evolution.fitness.size())};
  }
  return std::nullopt;
}

MutationSettings mutation_settings(const EvolutionSpec& evolution) {
  return {.type = evolution.mutation_type,
          .probability = static_cast<float>(evolution.mutation_probability),
          .factor = static_cast<float>(evolution.mutation_factor),
          .reset_range = static_cast<float>(evolution.initialization_range)};
}

// Parents are scattered over the evaluated population; fetching the next pair's first
// lines while this child is bred hides most of the memory latency on small genomes.
void prefetch(std::span<const float> genome) {
  constexpr std::size_t kFloatsPerLine = 16;
  constexpr std::size_t kLines = 64;  // the hardware prefetcher takes over on long genomes
  const std::size_t end = std::min(genome.size(), kLines * kFloatsPerLine);
  for (std::size_t i = 0; i < end; i += kFloatsPerLine)
    __builtin_prefetch(genome.data() + i);
}

// Fills population slots [first_child, size) from the chosen parent pairs, in parallel;
// each child draws from its own stream, so the split over threads does not matter.
void breed(const ExperimentParams& params, const NetworkShape& shape, const Population& evaluated,
           std::span<const ParentPair> parents, Seed seed, unsigned threads, Population& next) {
  const EvolutionSpec& evolution = params.evolution;
  const Mutation mutation(mutation_settings(evolution));
  const std::size_t first_child = next.candidates.size() - parents.size();
  parallel_for(parents.size(), threads, [&](std::size_t begin, std::size_t end) {
    OperatorScratch scratch;
    for (std::size_t k = begin; k < end; ++k) {
      if (k + 1 < end) {
        prefetch(evaluated.genomes[parents[k + 1].first]);
        prefetch(evaluated.genomes[parents[k + 1].second]);
      }
      const std::size_t slot = first_child + k;
      RandomStream random = stream_for(seed, next.generation, Purpose::kChild, slot);
      auto first = evaluated.genomes[parents[k].first];
      auto second = evaluated.genomes[parents[k].second];
      auto child = next.genomes[slot];
      Identity& identity = next.candidates[slot].identity;
      bool crosses = evolution.crossover_rate >= 1.0 ||
                     random.next_float() < static_cast<float>(evolution.crossover_rate);
      if (crosses && evolution.crossover == Crossover::kUniform) {
        uniform_crossover(first, second, child, random, scratch);
      } else if (crosses) {
        one_point_crossover(shape, first, second, child, random);
      } else {
        std::copy(first.begin(), first.end(), child.begin());
      }
      mutation.apply(child, random, scratch);
      identity.parents.push_back(evaluated.candidates[parents[k].first].id);
      if (crosses) {
        identity.parents.push_back(evaluated.candidates[parents[k].second].id);
        identity.crossover = evolution.crossover;
      }
    }
  });
}

}  // namespace

std::string_view name_of(Origin origin) {
  return origin == Origin::kInitial ? "initial" : "offspring";
}

Population initial_population(const ExperimentParams& params, Seed seed, EngineOptions options) {
  const NetworkShape shape(params.network);
  const auto size = static_cast<std::size_t>(params.evolution.population_size);
  Population population{.generation = 1,
                        .candidates = std::vector<Candidate>(size),
                        .genomes = Genomes(size, shape.weight_count())};
  for (std::size_t i = 0; i < size; ++i) {
    population.candidates[i].id = candidate_id(1, i);
  }
  const auto range = static_cast<float>(params.evolution.initialization_range);
  parallel_for(size, options.threads, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) {
      RandomStream random = stream_for(seed, 1, Purpose::kInitial, i);
      initialize_genome(shape, params.evolution.initialization_distribution, range, random,
                        population.genomes[i]);
    }
  });
  return population;
}

Result<NextGeneration> next_generation(const ExperimentParams& params, const Population& evaluated,
                                       const Scores& scores, Seed seed, EngineOptions options) {
  const NetworkShape shape(params.network);
  if (auto error = check_inputs(params, shape, evaluated, scores)) return *error;
  const Ranking ranking = rank_candidates(scores, params.evolution.fitness);
  const auto size = static_cast<std::size_t>(params.evolution.population_size);
  const int generation = evaluated.generation + 1;
  NextGeneration result{.population = {.generation = generation,
                                       .candidates = std::vector<Candidate>(size),
                                       .genomes = Genomes(size, shape.weight_count())},
                        .evaluated = summarize(params, scores, ranking),
                        .warnings = incomplete_warnings(evaluated, ranking)};
  Population& next = result.population;

  const auto elites = choose_elites(params, ranking);
  for (std::size_t e = 0; e < elites.size(); ++e) {
    next.candidates[e] = evaluated.candidates[elites[e]];
    next.candidates[e].elite = true;
    std::ranges::copy(evaluated.genomes[elites[e]], next.genomes[e].begin());
  }
  for (std::size_t slot = elites.size(); slot < size; ++slot) {
    next.candidates[slot] = {.id = candidate_id(generation, slot),
                             .identity = {.generation = generation,
                                          .origin = Origin::kOffspring,
                                          .mutation = params.evolution.mutation_type}};
  }
  RandomStream selection = stream_for(seed, generation, Purpose::kSelection);
  const auto parents =
      select_parents(params.evolution.parent_selection, parent_pool(params, scores, ranking),
                     size - elites.size(), selection);
  breed(params, shape, evaluated, parents, seed, options.threads, next);
  return result;
}

}  // namespace esp::evolution
