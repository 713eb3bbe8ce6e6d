#include "evolution/engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "evolution/cma_es.h"
#include "evolution/initialization.h"
#include "evolution/network.h"
#include "evolution/operators.h"
#include "evolution/parallel.h"
#include "evolution/selection.h"

namespace esp::evolution {
namespace {

// Independent random streams, keyed so that no two uses within one generation collide.
enum class Purpose : std::uint64_t { kInitial = 1, kSelection = 2, kChild = 3, kCmaSample = 4 };

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
std::size_t pool_size(const ExperimentParams& params, const Ranking& ranking) {
  const std::size_t n = ranking.order.size();
  const auto removed = static_cast<std::size_t>(
      std::floor(static_cast<double>(n) * params.evolution.remove_population_pct));
  std::size_t eligible = std::max<std::size_t>(1, n - std::min(removed, n));
  const std::size_t complete = n - ranking.incomplete.size();
  if (complete > 0) eligible = std::min(eligible, complete);
  return eligible;
}

ParentPool parent_pool(const ExperimentParams& params, const Scores& scores,
                       const Ranking& ranking) {
  const std::size_t complete = ranking.order.size() - ranking.incomplete.size();
  ParentPool pool;
  pool.candidates.assign(ranking.order.begin(),
                         ranking.order.begin() + std::ptrdiff_t(pool_size(params, ranking)));
  if (!weighs_fitness(params.evolution.parent_selection)) return pool;
  if (params.evolution.fitness.size() == 1 && complete > 0) {
    const bool maximize = params.evolution.fitness.front().maximize;
    for (std::uint32_t c : pool.candidates)
      pool.fitness.push_back(maximize ? scores.at(c, 0) : -scores.at(c, 0));
  } else {
    // Several objectives (or none complete): the Pareto front stands for fitness.
    for (std::uint32_t c : pool.candidates)
      pool.fitness.push_back(1.0 / (ranking.front[c] + 1.0));
  }
  return pool;
}

std::size_t complete_count(const Ranking& ranking) {
  return ranking.order.size() - ranking.incomplete.size();
}

std::size_t elite_count(const ExperimentParams& params, const Ranking& ranking) {
  return std::min<std::size_t>({static_cast<std::size_t>(params.evolution.nb_elites),
                                complete_count(ranking),
                                static_cast<std::size_t>(params.evolution.population_size)});
}

std::vector<std::uint32_t> choose_elites(const ExperimentParams& params, const Ranking& ranking) {
  return {ranking.order.begin(),
          ranking.order.begin() + std::ptrdiff_t(elite_count(params, ranking))};
}

std::optional<Error> check_inputs(const ExperimentParams& params, const NetworkShape& shape,
                                  const Evaluated& evaluated) {
  const std::size_t n = evaluated.population.candidates.size();
  const Genomes& genomes = evaluated.genomes;
  const Scores& scores = evaluated.scores;
  if (n == 0) return Error{Code::kInvalidArgument, "the evaluated population is empty"};
  if (genomes.size() != n) {
    return Error{Code::kInvalidArgument, "every candidate needs exactly one genome"};
  }
  if (genomes.weights_per_genome() != shape.weight_count()) {
    return Error{Code::kInvalidArgument,
                 fmt::format("candidates have {} weights but the network needs {}",
                             genomes.weights_per_genome(), shape.weight_count())};
  }
  if (scores.candidates() != n || scores.objectives() != params.evolution.fitness.size()) {
    return Error{
        Code::kInvalidArgument,
        fmt::format("scores for {} candidates x {} objectives do not match {} x {}",
                    scores.candidates(), scores.objectives(), n, params.evolution.fitness.size())};
  }
  if (evaluated.ranking.order.size() != n)
    return Error{Code::kInternal, "the ranking is not of this population"};
  const std::size_t read = genomes_read(params, evaluated.ranking);
  for (std::size_t k = 0; k < read; ++k) {
    if (!genomes.holds(evaluated.ranking.order[k]))
      return Error{Code::kInternal, "a genome the generation breeds from is not in memory"};
  }
  return std::nullopt;
}

// One per listed mutation type, built once per generation.
std::vector<Mutation> mutations(const EvolutionSpec& evolution) {
  std::vector<Mutation> built;
  for (MutationType type : evolution.mutation_type) {
    built.emplace_back(
        MutationSettings{.type = type,
                         .probability = static_cast<float>(evolution.mutation_probability),
                         .factor = static_cast<float>(evolution.mutation_factor),
                         .reset_range = static_cast<float>(evolution.initialization_range)});
  }
  return built;
}

// One of `count` choices for a child: the only one, or one drawn from its stream.
std::size_t drawn(std::size_t count, RandomStream& random) {
  return count > 1 ? random.next_below(count) : 0;
}

void cross(const Crossover& crossover, const NetworkShape& shape, std::span<const float> first,
           std::span<const float> second, std::span<float> child, RandomStream& random,
           OperatorScratch& scratch) {
  switch (crossover.kind) {
    case CrossoverKind::kUniformWeight:
      uniform_crossover(first, second, child, random, scratch);
      return;
    case CrossoverKind::kUniformLayer:
      uniform_layer_crossover(shape, first, second, child, random);
      return;
    case CrossoverKind::kPoints:
      points_crossover(crossover.points, first, second, child, random);
      return;
    case CrossoverKind::kCloneDaddy:
      std::copy(first.begin(), first.end(), child.begin());
      return;
  }
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
void breed(const ExperimentParams& params, const NetworkShape& shape, const Evaluated& evaluated,
           std::span<const ParentPair> parents, Seed seed, unsigned threads, Population& next) {
  const EvolutionSpec& evolution = params.evolution;
  const std::vector<Mutation> mutation = mutations(evolution);
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
      const Crossover& crossover = evolution.crossover[drawn(evolution.crossover.size(), random)];
      const std::size_t mutation_index = drawn(mutation.size(), random);
      const bool crosses = evolution.crossover_rate >= 1.0 ||
                           random.next_float() < static_cast<float>(evolution.crossover_rate);
      if (crosses) {
        cross(crossover, shape, first, second, child, random, scratch);
      } else {
        std::copy(first.begin(), first.end(), child.begin());
      }
      mutation[mutation_index].apply(child, random, scratch);
      identity.mutation = evolution.mutation_type[mutation_index];
      const Candidate& daddy = evaluated.population.candidates[parents[k].first];
      const Candidate& mommy = evaluated.population.candidates[parents[k].second];
      identity.parents.push_back(daddy.id);
      identity.ancestor_count = daddy.identity.ancestor_count + 1;
      if (crosses) {
        identity.crossover = crossover;
        if (crossover.kind != CrossoverKind::kCloneDaddy) {
          identity.parents.push_back(mommy.id);
          identity.ancestor_count =
              std::max(identity.ancestor_count, mommy.identity.ancestor_count + 1);
        }
      }
    }
  });
}

bool is_cma(const ExperimentParams& params) {
  return params.evolution.algorithm != Algorithm::kGa;
}

CmaVariant cma_variant_of(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kSepCmaEs:
      return CmaVariant::kSeparable;
    case Algorithm::kActiveCmaEs:
      return CmaVariant::kActive;
    case Algorithm::kCmaEs:
    case Algorithm::kGa:  // never asked: the GA keeps no strategy
      break;
  }
  return CmaVariant::kFull;
}

// A CMA-ES generation: population_size samples (doubled for each restart) of the
// distribution `state` describes, each from its own stream, so the bits do not depend on
// the thread count.
Population cma_generation(const ExperimentParams& params, const CmaState& state, Seed seed,
                          int generation, unsigned threads) {
  const NetworkShape shape(params.network);
  const auto size = population_after_restarts(params.evolution, state.restarts);
  Population population{.generation = generation,
                        .candidates = std::vector<Candidate>(size),
                        .genomes = Genomes(size, shape.weight_count()),
                        .strategy = state.serialize()};
  for (std::size_t i = 0; i < size; ++i)
    population.candidates[i] = {.id = candidate_id(generation, i),
                                .identity = {.generation = generation}};
  parallel_for(size, threads, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) {
      RandomStream random = stream_for(seed, generation, Purpose::kCmaSample, i);
      cma_sample(state, random, population.genomes[i]);
    }
  });
  return population;
}

}  // namespace

std::string_view name_of(Origin origin) {
  return origin == Origin::kInitial ? "initial" : "offspring";
}

Population initial_population(const ExperimentParams& params, Seed seed, EngineOptions options) {
  if (is_cma(params)) {
    const NetworkShape shape(params.network);
    const auto start =
        cma_start(shape.weight_count(),
                  params.evolution.cma_sigma.value_or(params.evolution.initialization_range),
                  cma_variant_of(params.evolution.algorithm));
    return cma_generation(params, start, seed, 1, options.threads);
  }
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

std::size_t genomes_read(const ExperimentParams& params, const Ranking& ranking) {
  if (is_cma(params)) return complete_count(ranking);
  return std::max(pool_size(params, ranking), elite_count(params, ranking));
}

Result<NextGeneration> next_generation(const ExperimentParams& params, const Population& evaluated,
                                       const Scores& scores, Seed seed, EngineOptions options) {
  if (scores.objectives() != params.evolution.fitness.size())
    return Error{Code::kInvalidArgument,
                 fmt::format("scores for {} objectives do not match {}", scores.objectives(),
                             params.evolution.fitness.size())};
  const Ranking ranking = rank_candidates(scores, params.evolution.fitness);
  return next_generation(params,
                         Evaluated{.population = evaluated,
                                   .genomes = evaluated.genomes,
                                   .scores = scores,
                                   .ranking = ranking},
                         seed, options);
}

Result<NextGeneration> next_generation(const ExperimentParams& params, const Evaluated& evaluated,
                                       Seed seed, EngineOptions options) {
  const NetworkShape shape(params.network);
  if (auto error = check_inputs(params, shape, evaluated)) return *error;
  const Population& population = evaluated.population;
  const Scores& scores = evaluated.scores;
  const Ranking& ranking = evaluated.ranking;
  const auto size = static_cast<std::size_t>(params.evolution.population_size);
  const int generation = population.generation + 1;
  NextGeneration result{.evaluated = summarize(params, scores, ranking),
                        .warnings = incomplete_warnings(population, ranking)};
  result.standings.resize(population.candidates.size());
  for (std::size_t i = 0; i < result.standings.size(); ++i)
    result.standings[i] = {.front = ranking.front[i], .crowding = ranking.crowding[i]};

  if (is_cma(params)) {
    // No elites and no parents: the strategy learns from the ranked samples and draws
    // the next generation from its updated distribution.
    if (population.strategy.empty()) {
      return Error{Code::kInvalidArgument,
                   "evolution.algorithm: the evaluated population carries no CMA-ES state (it "
                   "was bred by the GA); start a new experiment to use CMA-ES"};
    }
    auto state = CmaState::parse(population.strategy);
    if (!state.ok()) return state.error();
    if (state->dimension != shape.weight_count())
      return Error{Code::kInvalidArgument, "the CMA-ES state does not fit this network"};
    // The order ranks incomplete candidates last; the strategy learns from the others.
    std::vector<std::span<const float>> best_first;
    for (std::size_t k = 0; k + ranking.incomplete.size() < ranking.order.size(); ++k)
      best_first.push_back(evaluated.genomes[ranking.order[k]]);
    const double best_value = best_first.empty() ? INFINITY
                              : params.evolution.fitness.front().maximize
                                  ? -scores.at(ranking.order.front(), 0)
                                  : scores.at(ranking.order.front(), 0);
    auto updated = cma_update(*state, best_first, population.candidates.size());
    cma_follow_best(updated, best_value, params.evolution.cma_tolfun);
    std::string restart_reason;
    if (updated.restarts < params.evolution.cma_restarts) {
      if (auto stall = cma_stall(updated, population.candidates.size())) {
        updated = cma_restart(updated);
        restart_reason = *stall;
        result.warnings.push_back(
            fmt::format("CMA-ES restarts ({} of at most {}) with {} candidates: {}",
                        updated.restarts, params.evolution.cma_restarts,
                        population_after_restarts(params.evolution, updated.restarts), *stall));
      }
    }
    result.strategy = StrategySummary{.step_size = updated.sigma,
                                      .restarts = updated.restarts,
                                      .restart_reason = std::move(restart_reason)};
    result.population = cma_generation(params, updated, seed, generation, options.threads);
    return result;
  }

  result.population = {.generation = generation,
                       .candidates = std::vector<Candidate>(size),
                       .genomes = Genomes(size, shape.weight_count())};
  Population& next = result.population;
  const auto elites = choose_elites(params, ranking);
  for (std::size_t e = 0; e < elites.size(); ++e) {
    next.candidates[e] = population.candidates[elites[e]];
    next.candidates[e].elite = true;
    result.standings[elites[e]].elite = true;
    std::ranges::copy(evaluated.genomes[elites[e]], next.genomes[e].begin());
  }
  for (std::size_t slot = elites.size(); slot < size; ++slot) {
    next.candidates[slot] = {.id = candidate_id(generation, slot),
                             .identity = {.generation = generation, .origin = Origin::kOffspring}};
  }
  RandomStream selection = stream_for(seed, generation, Purpose::kSelection);
  const auto parents =
      select_parents({.method = params.evolution.parent_selection,
                      .sigma_scaling_factor = params.evolution.sigma_scaling_factor},
                     parent_pool(params, scores, ranking), size - elites.size(), selection);
  breed(params, shape, evaluated, parents, seed, options.threads, next);
  return result;
}

}  // namespace esp::evolution
