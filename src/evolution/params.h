// Experiment parameters: the JSON document ESP users already write (`network`,
// `evolution`, `LEAF`), parsed once into typed values with every problem named by path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace esp::evolution {

enum class Activation { kLinear, kRelu, kTanh, kSigmoid, kSoftmax };
enum class ParentSelection {
  kTournament,          // two binary tournaments with replacement: the parents may be the same
  kTournamentDistinct,  // four distinct candidates, two tournaments: two distinct parents
  kProportion,          // chance proportional to fitness
  kRanking,             // chance proportional to rank (the best n, the worst 1)
  kSigmaScaling,        // chance 1 + (f - mean) / (sigma_scaling_factor * sd), floored
  kRandom,
  kBest,  // the two best parents for every child
};
enum class MutationType { kGaussianNoisePercentage, kGaussianNoiseFixed, kUniformReset, kNone };
enum class CrossoverKind { kUniformWeight, kUniformLayer, kPoints, kCloneDaddy };
enum class Initialization { kOrthogonal, kUniform, kNormal, kCauchy, kXavier, kHe };
enum class CandidatesToPersist { kAll, kElites, kBest, kNone, kPareto };

struct Crossover {
  CrossoverKind kind = CrossoverKind::kUniformWeight;
  std::size_t points = 0;  // for kPoints: where the genome is cut, k >= 1
  bool operator==(const Crossover&) const = default;
};

// The spelling used in the parameters document, e.g. "gaussian_noise_fixed", "3_points".
std::string_view name_of(Activation value);
std::string_view name_of(ParentSelection value);
std::string_view name_of(MutationType value);
std::string name_of(Crossover value);
std::string_view name_of(Initialization value);
std::string_view name_of(CandidatesToPersist value);
// A crossover by its name in the parameters (name_of's, "<k>_point", and the earlier
// "uniform" and "one_point"); nullopt for anything else.
std::optional<Crossover> crossover_named(std::string_view name);

struct InputSpec {
  std::string name;
  std::size_t size = 0;
  std::vector<std::string> values;  // {"float"} for numbers, else one-hot categories
  bool operator==(const InputSpec&) const = default;
};

struct LayerSpec {
  std::string name;
  std::size_t units = 0;
  Activation activation = Activation::kLinear;
  bool use_bias = true;
  bool operator==(const LayerSpec&) const = default;
};

struct OutputSpec {
  std::string name;
  std::size_t size = 0;
  Activation activation = Activation::kLinear;
  bool use_bias = true;
  std::vector<std::string> values;
  bool operator==(const OutputSpec&) const = default;
};

struct NetworkSpec {
  std::vector<InputSpec> inputs;
  std::vector<LayerSpec> hidden_layers;
  std::vector<OutputSpec> outputs;  // several outputs are parallel heads on the last hidden layer
  bool operator==(const NetworkSpec&) const = default;
};

struct Objective {
  std::string metric_name;
  bool maximize = true;
  std::optional<double> target;  // where a run may stop early (early_stop)
};

// esp's addition (absent: the GA, so SDK files are unchanged): CMA-ES with a full
// covariance, for networks of up to kMaxFullCmaWeights (DEAP's update, or the active one
// of Hansen 2016), or sep-CMA-ES, linear per weight.
enum class Algorithm { kGa, kCmaEs, kSepCmaEs, kActiveCmaEs };
std::string_view name_of(Algorithm value);  // its name in `evolution.algorithm`

struct EvolutionSpec {
  Algorithm algorithm = Algorithm::kGa;
  // CMA-ES's initial step size; absent: initialization_range.
  std::optional<double> cma_sigma;
  // CMA-ES restarts at most this often when a run stalls, each time with twice the
  // population (IPOP); 0: never.
  int cma_restarts = 0;
  // How much a generation's best must better the last one that counted for the run to be
  // making progress (the restart test; pycma's tolfun is of this order by default).
  double cma_tolfun = 1e-12;
  int nb_generations = 10;
  int population_size = 10;
  int nb_elites = 2;
  ParentSelection parent_selection = ParentSelection::kTournament;
  double sigma_scaling_factor = 2.0;
  double remove_population_pct = 0.8;
  // One drawn per child when there are several.
  std::vector<MutationType> mutation_type{MutationType::kGaussianNoisePercentage};
  double mutation_probability = 0.1;
  double mutation_factor = 0.1;
  std::vector<Crossover> crossover{Crossover{}};  // one drawn per child when there are several
  double crossover_rate = 1.0;
  Initialization initialization_distribution = Initialization::kOrthogonal;
  double initialization_range = 1.0;
  std::vector<Objective> fitness{{"score", true, std::nullopt}};
  // With one objective that has a target: the run is over once the best candidate
  // reaches it (evaluation_stats say so; clients stop).
  bool early_stop = false;
  std::optional<std::uint64_t> seed;  // absent: the caller derives one from the experiment id
};

// The population of a generation after `restarts` CMA-ES restarts: population_size,
// doubled once a restart up to cma_restarts (always population_size for the GA).
std::size_t population_after_restarts(const EvolutionSpec& evolution, std::int64_t restarts);

// The largest population a generation of these parameters can have.
inline std::size_t largest_population(const EvolutionSpec& evolution) {
  return population_after_restarts(evolution, evolution.cma_restarts);
}

struct LeafSpec {
  // NNWeights, KerasNN (the default, as the SDK's code assumes when the key is absent)
  // or esp's NNWeightsBinary (codec/candidate_codec.h).
  std::string representation = "KerasNN";
  std::string experiment_id;
  std::string version;
  std::string persistence_dir;
  CandidatesToPersist candidates_to_persist = CandidatesToPersist::kBest;
  bool reevaluate_elites = true;
};

struct ExperimentParams {
  NetworkSpec network;
  EvolutionSpec evolution;
  LeafSpec leaf;
};

// Bounds that keep one experiment from exhausting a server.
struct ParamsLimits {
  // Full-covariance CMA-ES keeps n^2 doubles and decomposes them each generation.
  static constexpr std::size_t kMaxFullCmaWeights = 2'000;
  static constexpr int kMaxPopulation = 1'000'000;
  // 2^20 times the smallest population already passes kMaxPopulation.
  static constexpr int kMaxCmaRestarts = 20;
  static constexpr std::size_t kMaxLayerUnits = 1'000'000;
  static constexpr std::size_t kMaxWeights = 100'000'000;
  static constexpr std::size_t kMaxPopulationWeights = 1'000'000'000;
  // A parameter document is a few KB; nested at most json::kMaxDepth levels.
  static constexpr std::size_t kMaxDocumentBytes = std::size_t{1} << 20;
};

struct ParamsReport {
  std::optional<ExperimentParams> params;  // present exactly when errors is empty
  std::vector<Issue> errors;
  std::vector<Issue> warnings;  // unknown keys and similar, never fatal
};

// 1 to 128 letters, digits, '-', '_' or '.' (not "." or ".."): safe inside checkpoint ids.
bool valid_experiment_id(std::string_view id);

// Reads and validates the whole document, reporting every problem at once.
ParamsReport check_params(std::string_view json);

// check_params for callers that only need the verdict: kInvalidArgument lists every
// error, one "path: reason" per line.
Result<ExperimentParams> parse_params(std::string_view json);

}  // namespace esp::evolution
