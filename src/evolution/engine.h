// The evolution engine: the first generation of an experiment, and the next
// generation from an evaluated one. Pure computation; deterministic for a seed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "evolution/genomes.h"
#include "evolution/params.h"
#include "evolution/random.h"
#include "evolution/ranking.h"

namespace esp::evolution {

enum class Origin { kInitial, kOffspring };
std::string_view name_of(Origin origin);

// How a candidate came to be. Elites carry their identity forward unchanged.
struct Identity {
  int generation = 1;  // generation of birth
  Origin origin = Origin::kInitial;
  std::vector<std::string> parents;  // ids; one when no crossover took place (or clone_daddy)
  int ancestor_count = 0;            // 0 for seeds, else 1 + the most of any parent
  std::optional<Crossover> crossover;
  std::optional<MutationType> mutation;
};

struct Candidate {
  std::string id;  // "<generation of birth>_<position>", unique within an experiment
  Identity identity;
  bool elite = false;  // copied unchanged from the previous generation
  // An elite's metrics from the generation it was evaluated in (set by the caller, which
  // has the client's metrics); empty for every other candidate.
  MetricValues metrics;
};

struct Population {
  int generation = 0;
  std::vector<Candidate> candidates;
  Genomes genomes;  // genomes[i] belongs to candidates[i]
  // CMA-ES's state after it sampled this generation (CmaState::serialize); empty for the
  // GA. Stored with the checkpoint, so the next generation continues it anywhere.
  std::string strategy;
};

struct ObjectiveSummary {
  std::string metric_name;
  std::size_t count = 0;  // candidates with a finite value
  double min = 0;
  double max = 0;
  double mean = 0;
};

struct GenerationStats {
  std::vector<ObjectiveSummary> objectives;
  std::size_t fronts = 0;
  std::size_t first_front_size = 0;
  std::size_t incomplete = 0;  // candidates ranked last for missing or non-finite metrics
};

// Where one evaluated candidate ended up.
struct Standing {
  std::uint32_t front = 0;  // NSGA-II rank (0 = non-dominated)
  double crowding = 0;      // NSGA-II crowding distance within its front
  bool elite = false;       // carried into the next generation unchanged
};

// CMA-ES after it learned from a generation: the distribution the next was drawn from.
struct StrategySummary {
  double step_size = 0;        // sigma
  std::int64_t restarts = 0;   // so far (cma_restarts)
  std::string restart_reason;  // why the run stalled and restarted here; empty if it did not
};

struct NextGeneration {
  Population population;
  GenerationStats evaluated;                // of the population that was evaluated
  std::vector<Standing> standings;          // per evaluated candidate, in its order
  std::vector<std::string> warnings;        // e.g. candidates ranked last, for the caller to log
  std::optional<StrategySummary> strategy;  // CMA-ES's; absent for the GA
};

struct EngineOptions {
  unsigned threads = 1;  // results are identical for any value
};

// Generation 1: population_size fresh candidates drawn by initialization_distribution.
Population initial_population(const ExperimentParams& params, Seed seed,
                              EngineOptions options = {});

// Ranks `evaluated` by `scores` (one row per candidate, columns in fitness order), keeps
// the elites bit for bit, and breeds the rest. kInvalidArgument when the population does
// not fit the parameters' network or the scores do not fit the population.
Result<NextGeneration> next_generation(const ExperimentParams& params, const Population& evaluated,
                                       const Scores& scores, Seed seed, EngineOptions options = {});

// A generation to breed from, already ranked: `genomes` stands for the population's own
// and need hold only those genomes_read names.
struct Evaluated {
  const Population& population;  // its candidates and strategy
  const Genomes& genomes;
  const Scores& scores;
  const Ranking& ranking;  // rank_candidates(scores, params.evolution.fitness)
};

// How many of the best candidates (the first of ranking.order) a generation reads the
// genomes of: the parent pool and the elites, or for CMA-ES every complete candidate.
// The rest of a population need not be in memory to breed it.
std::size_t genomes_read(const ExperimentParams& params, const Ranking& ranking);

// next_generation on a ranked population; kInternal when a genome it reads is not held.
Result<NextGeneration> next_generation(const ExperimentParams& params, const Evaluated& evaluated,
                                       Seed seed, EngineOptions options = {});

}  // namespace esp::evolution
