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
enum class ParentSelection { kTournament, kProportion, kRandom };
enum class MutationType { kGaussianNoisePercentage, kGaussianNoiseFixed, kUniformReset };
enum class Crossover { kUniform, kOnePoint };
enum class Initialization { kOrthogonal, kUniform, kNormal, kXavier, kHe };
enum class CandidatesToPersist { kAll, kElites, kBest, kNone };

// The spelling used in the parameters document, e.g. "gaussian_noise_fixed".
std::string_view name_of(Activation value);
std::string_view name_of(ParentSelection value);
std::string_view name_of(MutationType value);
std::string_view name_of(Crossover value);
std::string_view name_of(Initialization value);
std::string_view name_of(CandidatesToPersist value);

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
};

struct EvolutionSpec {
  int nb_generations = 10;
  int population_size = 10;
  int nb_elites = 2;
  ParentSelection parent_selection = ParentSelection::kTournament;
  double remove_population_pct = 0.8;
  MutationType mutation_type = MutationType::kGaussianNoisePercentage;
  double mutation_probability = 0.1;
  double mutation_factor = 0.1;
  Crossover crossover = Crossover::kUniform;
  double crossover_rate = 1.0;
  Initialization initialization_distribution = Initialization::kOrthogonal;
  double initialization_range = 1.0;
  std::vector<Objective> fitness{{"score", true}};
  std::optional<std::uint64_t> seed;  // absent: the caller derives one from the experiment id
};

struct LeafSpec {
  std::string representation = "NNWeights";
  std::string experiment_id;
  std::string version;
  std::string persistence_dir;
  CandidatesToPersist candidates_to_persist = CandidatesToPersist::kElites;
  bool reevaluate_elites = true;
};

struct ExperimentParams {
  NetworkSpec network;
  EvolutionSpec evolution;
  LeafSpec leaf;
};

// Bounds that keep one experiment from exhausting a server.
struct ParamsLimits {
  static constexpr int kMaxPopulation = 1'000'000;
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
