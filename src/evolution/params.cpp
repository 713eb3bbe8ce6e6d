// Validation of the experiment parameters document. Each section is read by an
// ObjectReader that records which keys it used, so leftovers become warnings.
#include "evolution/params.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "core/json.h"
#include "evolution/cma_es.h"

namespace esp::evolution {
namespace {

using Json = nlohmann::json;

template <typename Enum>
struct Choice {
  std::string_view name;
  Enum value;
};

constexpr std::array<Choice<Activation>, 5> kActivations{{
    {"linear", Activation::kLinear},
    {"relu", Activation::kRelu},
    {"tanh", Activation::kTanh},
    {"sigmoid", Activation::kSigmoid},
    {"softmax", Activation::kSoftmax},
}};
constexpr std::array<Choice<ParentSelection>, 7> kSelections{{
    {"tournament", ParentSelection::kTournament},
    {"tournament_distinct", ParentSelection::kTournamentDistinct},
    {"proportion", ParentSelection::kProportion},
    {"ranking", ParentSelection::kRanking},
    {"sigma_scaling", ParentSelection::kSigmaScaling},
    {"random", ParentSelection::kRandom},
    {"best", ParentSelection::kBest},
}};
constexpr std::array<Choice<Algorithm>, 4> kAlgorithms{{
    {"ga", Algorithm::kGa},
    {"cma_es", Algorithm::kCmaEs},
    {"sep_cma_es", Algorithm::kSepCmaEs},
    {"active_cma_es", Algorithm::kActiveCmaEs},
}};
constexpr std::array<Choice<MutationType>, 4> kMutations{{
    {"gaussian_noise_percentage", MutationType::kGaussianNoisePercentage},
    {"gaussian_noise_fixed", MutationType::kGaussianNoiseFixed},
    {"uniform_reset", MutationType::kUniformReset},
    {"none", MutationType::kNone},
}};
// Fixed names; "<k>_points" is read apart. "uniform" and "one_point" are esp's earlier
// names, kept as aliases.
constexpr std::array<Choice<CrossoverKind>, 4> kCrossovers{{
    {"uniform_weight", CrossoverKind::kUniformWeight},
    {"uniform_layer", CrossoverKind::kUniformLayer},
    {"clone_daddy", CrossoverKind::kCloneDaddy},
    {"uniform", CrossoverKind::kUniformWeight},
}};
constexpr std::size_t kMaxCrossoverPoints = 1'000'000;
constexpr std::array<Choice<Initialization>, 7> kInitializations{{
    {"orthogonal", Initialization::kOrthogonal},
    {"uniform", Initialization::kUniform},
    {"normal", Initialization::kNormal},
    {"cauchy", Initialization::kCauchy},
    {"xavier", Initialization::kXavier},
    {"glorot", Initialization::kXavier},
    {"he", Initialization::kHe},
}};
constexpr std::array<Choice<CandidatesToPersist>, 5> kPersistChoices{{
    {"all", CandidatesToPersist::kAll},
    {"elites", CandidatesToPersist::kElites},
    {"best", CandidatesToPersist::kBest},
    {"none", CandidatesToPersist::kNone},
    {"pareto", CandidatesToPersist::kPareto},
}};

template <typename Enum, std::size_t N>
std::string_view name_in(const std::array<Choice<Enum>, N>& table, Enum value) {
  for (const auto& choice : table) {
    if (choice.value == value) return choice.name;
  }
  return "?";
}

// A short description of a JSON value for messages; containers are never dumped whole.
std::string describe(const Json& value) {
  switch (value.type()) {
    case Json::value_t::object:
      return "an object";
    case Json::value_t::array:
      return "an array";
    case Json::value_t::string: {
      const auto& text = value.get_ref<const std::string&>();
      constexpr std::size_t kShown = 60;
      if (text.size() <= kShown) return value.dump();
      return Json(text.substr(0, kShown)).dump() + "...";
    }
    default:
      return value.dump();
  }
}

std::string format_number(double value) {
  return fmt::format("{}", value);
}

class Problems {
 public:
  void error(std::string path, std::string reason) {
    errors_.push_back({std::move(path), std::move(reason)});
  }
  void warn(std::string path, std::string reason) {
    warnings_.push_back({std::move(path), std::move(reason)});
  }
  bool has_errors() const { return !errors_.empty(); }
  std::vector<Issue> take_errors() { return std::move(errors_); }
  std::vector<Issue> take_warnings() { return std::move(warnings_); }

 private:
  std::vector<Issue> errors_;
  std::vector<Issue> warnings_;
};

std::string join_path(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return fmt::format("{}.{}", parent, key);
}

std::string index_path(std::string_view parent, std::size_t index) {
  return fmt::format("{}[{}]", parent, index);
}

struct Bounds {
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  bool min_inclusive = true;
  bool max_inclusive = true;
};

// Reads the members of one JSON object. Every key asked for is remembered; finish()
// warns about the others. Missing optional members keep the caller's default.
class ObjectReader {
 public:
  ObjectReader(const Json* object, std::string path, Problems& problems)
      : object_(object), path_(std::move(path)), problems_(problems) {}

  ~ObjectReader() { warn_unknown_keys(); }
  ObjectReader(const ObjectReader&) = delete;
  ObjectReader& operator=(const ObjectReader&) = delete;

  const std::string& path() const { return path_; }
  std::string path_of(std::string_view key) const { return join_path(path_, key); }
  Problems& problems() { return problems_; }

  // The member, or nullptr when absent (or when this reader has no object).
  const Json* find(std::string_view key) {
    known_.emplace(key);
    if (object_ == nullptr) return nullptr;
    auto it = object_->find(key);
    if (it == object_->end() || it->is_null()) return nullptr;
    return &*it;
  }

  const Json* require(std::string_view key) {
    const Json* value = find(key);
    if (value == nullptr && object_ != nullptr) problems_.error(path_of(key), "required");
    return value;
  }

  void read_bool(std::string_view key, bool& out) {
    const Json* value = find(key);
    if (value == nullptr) return;
    if (!value->is_boolean()) {
      problems_.error(path_of(key), "must be true or false, got " + describe(*value));
      return;
    }
    out = value->get<bool>();
  }

  void read_string(std::string_view key, std::string& out) {
    if (const Json* value = find(key)) read_string_value(*value, path_of(key), out);
  }

  bool read_string_value(const Json& value, const std::string& path, std::string& out) {
    if (!value.is_string()) {
      problems_.error(path, "must be a string, got " + describe(value));
      return false;
    }
    out = value.get<std::string>();
    return true;
  }

  void read_number(std::string_view key, double& out, Bounds bounds) {
    const Json* value = find(key);
    if (value == nullptr) return;
    auto path = path_of(key);
    if (!value->is_number()) {
      problems_.error(path, "must be a number, got " + describe(*value));
      return;
    }
    double number = value->get<double>();
    if (check_bounds(path, number, format_number(number), bounds)) out = number;
  }

  template <typename Int>
  void read_integer(std::string_view key, Int& out, Int min, Int max) {
    const Json* value = find(key);
    if (value == nullptr) return;
    auto integer =
        integer_value(*value, path_of(key), static_cast<double>(min), static_cast<double>(max));
    if (integer) out = static_cast<Int>(*integer);
  }

  // JSON integers are compared exactly (long double holds every 64-bit integer), so a
  // value just past a bound is not rounded back inside it.
  std::optional<double> integer_value(const Json& value, const std::string& path, double min,
                                      double max) {
    if (value.is_number_integer()) {
      long double exact = value.is_number_unsigned()
                              ? static_cast<long double>(value.get<std::uint64_t>())
                              : static_cast<long double>(value.get<std::int64_t>());
      if (!check_bounds(path, exact, value.dump(), {.min = min, .max = max})) return std::nullopt;
      return static_cast<double>(exact);
    }
    double number = value.is_number() ? value.get<double>() : 0.5;
    if (!value.is_number() || std::floor(number) != number) {
      problems_.error(path, "must be an integer, got " + describe(value));
      return std::nullopt;
    }
    if (!check_bounds(path, number, format_number(number), {.min = min, .max = max})) {
      return std::nullopt;
    }
    return number;
  }

  template <typename Enum, std::size_t N>
  void read_choice(std::string_view key, Enum& out, const std::array<Choice<Enum>, N>& table) {
    if (const Json* value = find(key)) read_choice_value(*value, path_of(key), out, table);
  }

  template <typename Enum, std::size_t N>
  bool read_choice_value(const Json& value, const std::string& path, Enum& out,
                         const std::array<Choice<Enum>, N>& table) {
    if (value.is_string()) {
      const auto& text = value.get_ref<const std::string&>();
      for (const auto& choice : table) {
        if (choice.name == text) {
          out = choice.value;
          return true;
        }
      }
    }
    std::string names;
    for (const auto& choice : table)
      names += (names.empty() ? "" : ", ") + std::string(choice.name);
    problems_.error(path, fmt::format("must be one of {}, got {}", names, describe(value)));
    return false;
  }

  // One choice, or a non-empty list of them ("one drawn at random per child").
  template <typename Value, typename ReadOne>
  void read_choice_list(std::string_view key, std::vector<Value>& out, ReadOne read_one) {
    const Json* value = find(key);
    if (value == nullptr) return;
    const auto path = path_of(key);
    std::vector<Value> choices;
    bool valid = true;
    if (value->is_array()) {
      if (value->empty()) {
        problems_.error(path, "must not be an empty list");
        return;
      }
      for (std::size_t i = 0; i < value->size(); ++i) {
        Value one{};
        valid = read_one((*value)[i], index_path(path, i), one) && valid;
        choices.push_back(one);
      }
    } else {
      Value one{};
      valid = read_one(*value, path, one);
      choices.push_back(one);
    }
    if (valid) out = std::move(choices);
  }

 private:
  bool check_bounds(const std::string& path, long double number, const std::string& shown,
                    const Bounds& bounds) {
    if (!std::isfinite(number)) {
      problems_.error(path, "must be a finite number, got " + shown);
      return false;
    }
    if (number < bounds.min || (!bounds.min_inclusive && number == bounds.min)) {
      problems_.error(path, fmt::format("must be {} {}, got {}", bounds.min_inclusive ? ">=" : ">",
                                        format_number(bounds.min), shown));
      return false;
    }
    if (number > bounds.max || (!bounds.max_inclusive && number == bounds.max)) {
      problems_.error(path, fmt::format("must be {} {}, got {}", bounds.max_inclusive ? "<=" : "<",
                                        format_number(bounds.max), shown));
      return false;
    }
    return true;
  }

  void warn_unknown_keys() {
    if (object_ == nullptr) return;
    for (const auto& [key, value] : object_->items()) {
      if (!known_.contains(key)) problems_.warn(path_of(key), "unknown key, ignored");
    }
  }

  const Json* object_;
  std::string path_;
  Problems& problems_;
  std::set<std::string, std::less<>> known_;
};

// The object at `value`, or nullptr after reporting that it is not one.
const Json* as_object(const Json* value, const std::string& path, Problems& problems) {
  if (value == nullptr) return nullptr;
  if (!value->is_object()) {
    problems.error(path, "must be an object, got " + describe(*value));
    return nullptr;
  }
  return value;
}

const Json* as_array(const Json* value, const std::string& path, Problems& problems,
                     bool must_be_non_empty) {
  if (value == nullptr) return nullptr;
  if (!value->is_array()) {
    problems.error(path, "must be an array, got " + describe(*value));
    return nullptr;
  }
  if (must_be_non_empty && value->empty()) {
    problems.error(path, "must not be empty");
    return nullptr;
  }
  return value;
}

constexpr std::size_t kMaxUnits = ParamsLimits::kMaxLayerUnits;

// `values` lists one-hot categories unless it is exactly ["float"]; then `size` must match.
void read_values(ObjectReader& reader, std::vector<std::string>& values, std::size_t size) {
  auto path = reader.path_of("values");
  const Json* list = as_array(reader.find("values"), path, reader.problems(), true);
  if (list == nullptr) return;
  values.clear();
  for (std::size_t i = 0; i < list->size(); ++i) {
    std::string text;
    if (reader.read_string_value((*list)[i], index_path(path, i), text)) values.push_back(text);
  }
  bool numeric = values.size() == 1 && values.front() == "float";
  if (!numeric && values.size() == list->size() && size != 0 && size != values.size()) {
    reader.problems().error(
        reader.path_of("size"),
        fmt::format("must equal the number of values ({}), got {}", values.size(), size));
  }
}

void read_name(ObjectReader& reader, std::string_view key, std::string& out,
               std::set<std::string, std::less<>>& seen) {
  const Json* value = reader.require(key);
  if (value == nullptr || !reader.read_string_value(*value, reader.path_of(key), out)) return;
  if (out.empty()) {
    reader.problems().error(reader.path_of(key), "must not be empty");
  } else if (!seen.insert(out).second) {
    reader.problems().error(reader.path_of(key),
                            fmt::format("duplicate name {}", Json(out).dump()));
  }
}

void read_size(ObjectReader& reader, std::string_view key, std::size_t& out) {
  if (reader.require(key) != nullptr) reader.read_integer(key, out, std::size_t{1}, kMaxUnits);
}

std::vector<InputSpec> read_inputs(ObjectReader& network) {
  auto path = network.path_of("inputs");
  std::vector<InputSpec> inputs;
  const Json* list = as_array(network.require("inputs"), path, network.problems(), true);
  if (list == nullptr) return inputs;
  std::set<std::string, std::less<>> names;
  for (std::size_t i = 0; i < list->size(); ++i) {
    auto item_path = index_path(path, i);
    ObjectReader item(as_object(&(*list)[i], item_path, network.problems()), item_path,
                      network.problems());
    InputSpec input{.values = {"float"}};
    read_name(item, "name", input.name, names);
    read_size(item, "size", input.size);
    read_values(item, input.values, input.size);
    inputs.push_back(std::move(input));
  }
  return inputs;
}

LayerSpec read_hidden_layer(const Json& value, const std::string& path, std::size_t index,
                            Problems& problems) {
  ObjectReader layer(as_object(&value, path, problems), path, problems);
  // The original service's defaults: 10 tanh units with a bias.
  LayerSpec spec{
      .name = fmt::format("hidden_{}", index + 1), .units = 10, .activation = Activation::kTanh};
  layer.read_string("layer_name", spec.name);
  std::string type = "Dense";
  layer.read_string("layer_type", type);
  if (type != "Dense") {
    problems.error(layer.path_of("layer_type"),
                   fmt::format("must be \"Dense\", got {}", describe(Json(type))));
  }
  auto params_path = layer.path_of("layer_params");
  ObjectReader params(as_object(layer.find("layer_params"), params_path, problems), params_path,
                      problems);
  // Only the first may have 0 units: the inputs are then concatenated (network.h).
  params.read_integer("units", spec.units, std::size_t{index == 0 ? 0U : 1U}, kMaxUnits);
  params.read_choice("activation", spec.activation, kActivations);
  params.read_bool("use_bias", spec.use_bias);
  return spec;
}

// Older files describe one hidden layer with flat keys on `network`.
std::optional<LayerSpec> read_legacy_hidden_layer(ObjectReader& network) {
  const Json* units = network.find("nb_hidden_units");
  bool has_activation = network.find("activation_function") != nullptr;
  bool has_bias = network.find("use_bias") != nullptr;
  if (units == nullptr) {
    if (has_activation || has_bias) {
      network.problems().error(network.path_of("nb_hidden_units"),
                               "required with activation_function or use_bias");
    }
    return std::nullopt;
  }
  LayerSpec spec{.name = "hidden_1", .activation = Activation::kTanh};
  network.read_integer("nb_hidden_units", spec.units, std::size_t{1}, kMaxUnits);
  network.read_choice("activation_function", spec.activation, kActivations);
  network.read_bool("use_bias", spec.use_bias);
  return spec;
}

std::vector<LayerSpec> read_hidden_layers(ObjectReader& network) {
  std::vector<LayerSpec> layers;
  auto path = network.path_of("hidden_layers");
  const Json* list = as_array(network.find("hidden_layers"), path, network.problems(), false);
  auto legacy = read_legacy_hidden_layer(network);
  if (legacy && list != nullptr) {
    network.problems().error(network.path_of("nb_hidden_units"),
                             "give either hidden_layers or nb_hidden_units, not both");
  }
  if (legacy) layers.push_back(*legacy);
  if (list == nullptr) return layers;
  for (std::size_t i = 0; i < list->size(); ++i) {
    layers.push_back(read_hidden_layer((*list)[i], index_path(path, i), i, network.problems()));
  }
  return layers;
}

// Outputs default to sigmoid on a hidden layer, to linear on the inputs themselves.
std::vector<OutputSpec> read_outputs(ObjectReader& network, Activation default_activation) {
  auto path = network.path_of("outputs");
  std::vector<OutputSpec> outputs;
  const Json* list = as_array(network.require("outputs"), path, network.problems(), true);
  if (list == nullptr) return outputs;
  std::set<std::string, std::less<>> names;
  for (std::size_t i = 0; i < list->size(); ++i) {
    auto item_path = index_path(path, i);
    ObjectReader item(as_object(&(*list)[i], item_path, network.problems()), item_path,
                      network.problems());
    OutputSpec output{.activation = default_activation};
    read_name(item, "name", output.name, names);
    read_size(item, "size", output.size);
    item.read_choice("activation", output.activation, kActivations);
    item.read_bool("use_bias", output.use_bias);
    read_values(item, output.values, output.size);
    outputs.push_back(std::move(output));
  }
  return outputs;
}

std::size_t count_weights(const NetworkSpec& network) {
  // Saturating: sizes are bounded, but their products may not fit a size_t on purpose-built input.
  constexpr std::size_t kCap = std::numeric_limits<std::size_t>::max() / 4;
  std::size_t inputs = 0;
  for (const auto& input : network.inputs)
    inputs += input.size;
  std::size_t total = 0;
  auto add_layer = [&](std::size_t in, std::size_t out, bool bias) {
    total = std::min(
        kCap, total + std::min(kCap / std::max<std::size_t>(out, 1), in) * out + (bias ? out : 0));
  };
  std::size_t previous = inputs;
  for (std::size_t i = 0; i < network.hidden_layers.size(); ++i) {
    const auto& layer = network.hidden_layers[i];
    if (i == 0 && layer.units == 0) continue;  // the inputs concatenated
    if (i == 0) {
      // One branch per input (network.h).
      for (const auto& input : network.inputs)
        add_layer(input.size, layer.units, layer.use_bias);
    } else {
      add_layer(previous, layer.units, layer.use_bias);
    }
    previous = layer.units;
  }
  for (const auto& output : network.outputs)
    add_layer(previous, output.size, output.use_bias);
  return total;
}

// Every input, further hidden layer and output becomes a Keras layer of that name
// (network.h), beside the model's own "<input>_input", "add", "first_hidden_activation"
// and "concatenate_1": two of one name could not be one model.
void check_layer_names(const NetworkSpec& spec, Problems& problems) {
  std::map<std::string, std::string, std::less<>> taken{
      {"add", "the layer summing the inputs"},
      {"first_hidden_activation", "the first hidden layer's activation"},
      {"concatenate_1", "the layer joining the inputs"}};
  auto claim = [&](const std::string& name, const std::string& path, const std::string& what) {
    auto [it, fresh] = taken.emplace(name, what);
    if (!fresh && !name.empty()) {
      problems.error(path, fmt::format("{} is also {}; layer names must be unique in the model",
                                       describe(Json(name)), it->second));
    }
  };
  for (std::size_t i = 0; i < spec.inputs.size(); ++i) {
    const auto path = fmt::format("network.inputs[{}].name", i);
    claim(spec.inputs[i].name, path, fmt::format("the name of input {}", i));
    claim(spec.inputs[i].name + "_input", path, fmt::format("the input layer of input {}", i));
  }
  for (std::size_t i = 1; i < spec.hidden_layers.size(); ++i) {
    claim(spec.hidden_layers[i].name, fmt::format("network.hidden_layers[{}].layer_name", i),
          fmt::format("the name of hidden layer {}", i));
  }
  for (std::size_t i = 0; i < spec.outputs.size(); ++i) {
    claim(spec.outputs[i].name, fmt::format("network.outputs[{}].name", i),
          fmt::format("the name of output {}", i));
  }
}

NetworkSpec read_network(const Json& root, Problems& problems) {
  auto it = root.find("network");
  const Json* section = it == root.end() ? nullptr : &*it;
  if (section == nullptr) problems.error("network", "required");
  ObjectReader network(as_object(section, "network", problems), "network", problems);
  NetworkSpec spec;
  spec.inputs = read_inputs(network);
  spec.hidden_layers = read_hidden_layers(network);
  const bool on_hidden = !spec.hidden_layers.empty() && spec.hidden_layers.front().units > 0;
  spec.outputs = read_outputs(network, on_hidden ? Activation::kSigmoid : Activation::kLinear);
  // Only once each list is valid: a name repeated within one is reported already.
  if (!problems.has_errors()) check_layer_names(spec, problems);
  return spec;
}

void read_fitness(ObjectReader& evolution, std::vector<Objective>& fitness) {
  auto path = evolution.path_of("fitness");
  const Json* list = as_array(evolution.find("fitness"), path, evolution.problems(), true);
  if (list == nullptr) return;
  fitness.clear();
  std::set<std::string, std::less<>> names;
  for (std::size_t i = 0; i < list->size(); ++i) {
    auto item_path = index_path(path, i);
    ObjectReader item(as_object(&(*list)[i], item_path, evolution.problems()), item_path,
                      evolution.problems());
    Objective objective;
    read_name(item, "metric_name", objective.metric_name, names);
    item.read_bool("maximize", objective.maximize);
    if (item.find("target") != nullptr) {
      double target = 0;
      item.read_number("target", target, {});
      objective.target = target;
    }
    fitness.push_back(std::move(objective));
  }
}

bool read_crossover(const Json& value, const std::string& path, Crossover& out,
                    Problems& problems) {
  if (value.is_string()) {
    if (auto crossover = crossover_named(value.get_ref<const std::string&>())) {
      out = *crossover;
      return true;
    }
  }
  problems.error(path,
                 "must be one of uniform_weight, uniform_layer, <k>_points (e.g. 3_points), "
                 "clone_daddy, or a list of these, got " +
                     describe(value));
  return false;
}

EvolutionSpec read_evolution(const Json& root, Problems& problems) {
  auto it = root.find("evolution");
  const Json* section = it == root.end() || it->is_null() ? nullptr : &*it;
  ObjectReader evolution(as_object(section, "evolution", problems), "evolution", problems);
  EvolutionSpec spec;
  constexpr Bounds kProbability{.min = 0, .max = 1};
  evolution.read_choice("algorithm", spec.algorithm, kAlgorithms);
  if (evolution.find("cma_sigma") != nullptr) {
    double sigma = 0;
    evolution.read_number("cma_sigma", sigma, {.min = 0, .min_inclusive = false});
    spec.cma_sigma = sigma;
  }
  evolution.read_integer("cma_restarts", spec.cma_restarts, 0, ParamsLimits::kMaxCmaRestarts);
  evolution.read_number("cma_tolfun", spec.cma_tolfun, {.min = 0});
  evolution.read_integer("nb_generations", spec.nb_generations, 1, 1'000'000);
  evolution.read_integer("population_size", spec.population_size, 2, ParamsLimits::kMaxPopulation);
  evolution.read_integer("nb_elites", spec.nb_elites, 0, ParamsLimits::kMaxPopulation);
  evolution.read_choice("parent_selection", spec.parent_selection, kSelections);
  evolution.read_number("sigma_scaling_factor", spec.sigma_scaling_factor,
                        {.min = 0, .min_inclusive = false});
  evolution.read_number("remove_population_pct", spec.remove_population_pct,
                        {.min = 0, .max = 1, .max_inclusive = false});
  evolution.read_choice_list("mutation_type", spec.mutation_type,
                             [&](const Json& value, const std::string& path, MutationType& out) {
                               return evolution.read_choice_value(value, path, out, kMutations);
                             });
  evolution.read_number("mutation_probability", spec.mutation_probability, kProbability);
  evolution.read_number("mutation_factor", spec.mutation_factor, {.min = 0});
  evolution.read_choice_list("crossover", spec.crossover,
                             [&](const Json& value, const std::string& path, Crossover& out) {
                               return read_crossover(value, path, out, problems);
                             });
  evolution.read_number("crossover_rate", spec.crossover_rate, kProbability);
  evolution.read_choice("initialization_distribution", spec.initialization_distribution,
                        kInitializations);
  evolution.read_number("initialization_range", spec.initialization_range,
                        {.min = 0, .min_inclusive = false});
  read_fitness(evolution, spec.fitness);
  evolution.read_bool("early_stop", spec.early_stop);
  if (spec.early_stop && (spec.fitness.size() != 1 || !spec.fitness.front().target)) {
    problems.error("evolution.early_stop",
                   "needs exactly one fitness objective with a target (fitness[0].target)");
  }
  std::uint64_t seed = 0;
  if (evolution.find("seed") != nullptr) {
    evolution.read_integer("seed", seed, std::uint64_t{0}, std::uint64_t{1} << 53);
    spec.seed = seed;
  }
  // CMA-ES keeps no elites (and its population size may be its own default, set later).
  if (spec.algorithm == Algorithm::kGa && spec.nb_elites >= spec.population_size) {
    problems.error("evolution.nb_elites", fmt::format("must be < population_size (got {} >= {})",
                                                      spec.nb_elites, spec.population_size));
  }
  if (spec.algorithm == Algorithm::kGa && spec.cma_restarts > 0) {
    problems.error("evolution.cma_restarts",
                   "restarts are CMA-ES's: needs algorithm cma_es, sep_cma_es or active_cma_es");
  }
  if (spec.algorithm != Algorithm::kGa && spec.fitness.size() != 1) {
    problems.error("evolution.algorithm",
                   "CMA-ES optimises one objective; several keep the GA's NSGA-II (algorithm ga)");
  }
  return spec;
}

// CMA-ES: lambda = 4 + floor(3 ln n) unless population_size is given; the full
// covariance only for networks it stays affordable for.
void read_cma_population(const Json& root, ExperimentParams& params, Problems& problems) {
  if (params.evolution.algorithm == Algorithm::kGa) return;
  const std::size_t weights = count_weights(params.network);
  if (params.evolution.algorithm != Algorithm::kSepCmaEs &&
      weights > ParamsLimits::kMaxFullCmaWeights) {
    problems.error("evolution.algorithm",
                   fmt::format("{} keeps a full covariance, for networks of up to {} weights; "
                               "this one has {}: use sep_cma_es",
                               name_of(params.evolution.algorithm),
                               ParamsLimits::kMaxFullCmaWeights, weights));
  }
  const auto& evolution = root.find("evolution");
  if (evolution == root.end() || !evolution->is_object() || !evolution->contains("population_size"))
    params.evolution.population_size = static_cast<int>(cma_default_population(weights));
}

LeafSpec read_leaf(const Json& root, Problems& problems) {
  auto it = root.find("LEAF");
  const Json* section = it == root.end() || it->is_null() ? nullptr : &*it;
  ObjectReader leaf(as_object(section, "LEAF", problems), "LEAF", problems);
  LeafSpec spec;
  leaf.read_string("representation", spec.representation);
  if (spec.representation == "RuleBased" || spec.representation == "Structure") {
    problems.error("LEAF.representation",
                   fmt::format("{} is not supported: esp evolves neural networks (NNWeights, "
                               "KerasNN, or esp's NNWeightsBinary)",
                               describe(Json(spec.representation))));
  } else if (spec.representation != "NNWeights" && spec.representation != "KerasNN" &&
             spec.representation != "NNWeightsBinary") {
    problems.error("LEAF.representation",
                   "must be one of NNWeights, KerasNN, NNWeightsBinary, got " +
                       describe(Json(spec.representation)));
  }
  leaf.read_string("experiment_id", spec.experiment_id);
  if (leaf.find("experiment_id") != nullptr && !spec.experiment_id.empty() &&
      !valid_experiment_id(spec.experiment_id)) {
    problems.error("LEAF.experiment_id", "must be 1 to 128 letters, digits, '-', '_' or '.', got " +
                                             describe(Json(spec.experiment_id)));
  }
  leaf.read_string("version", spec.version);
  leaf.read_string("persistence_dir", spec.persistence_dir);
  leaf.read_choice("candidates_to_persist", spec.candidates_to_persist, kPersistChoices);
  leaf.read_bool("reevaluate_elites", spec.reevaluate_elites);
  // Client-side settings: accepted so SDK files validate, not used by the server.
  std::string host;
  leaf.read_string("esp_host", host);
  int port = 0;
  leaf.read_integer("esp_port", port, 1, 65535);
  leaf.read_string("esp_service_name", host);
  bool secure = false;
  leaf.read_bool("secure", secure);
  int max_workers = 0;
  leaf.read_integer("max_workers", max_workers, 0, 1'000'000);
  as_object(leaf.find("grpc_options"), "LEAF.grpc_options", problems);
  return spec;
}

void check_sizes(const ExperimentParams& params, Problems& problems) {
  std::size_t weights = count_weights(params.network);
  if (weights > ParamsLimits::kMaxWeights) {
    problems.error("network", fmt::format("has {} weights; at most {} are allowed", weights,
                                          ParamsLimits::kMaxWeights));
    return;
  }
  auto population = static_cast<std::size_t>(params.evolution.population_size);
  if (weights * population > ParamsLimits::kMaxPopulationWeights) {
    problems.error("evolution.population_size",
                   fmt::format("{} candidates of {} weights exceed the limit of {} weights per "
                               "generation",
                               population, weights, ParamsLimits::kMaxPopulationWeights));
    return;
  }
  // Restarts double the population: the last one must fit the same bounds.
  const std::size_t largest = largest_population(params.evolution);
  if (largest > static_cast<std::size_t>(ParamsLimits::kMaxPopulation) ||
      weights * largest > ParamsLimits::kMaxPopulationWeights) {
    problems.error(
        "evolution.cma_restarts",
        fmt::format("{} restarts would grow the population to {} candidates of {} weights, over "
                    "the limits of {} candidates and {} weights per generation",
                    params.evolution.cma_restarts, largest, weights, ParamsLimits::kMaxPopulation,
                    ParamsLimits::kMaxPopulationWeights));
  }
}

void warn_unknown_sections(const Json& root, Problems& problems) {
  for (const auto& [key, value] : root.items()) {
    if (key != "network" && key != "evolution" && key != "LEAF") {
      problems.warn(key, "unknown key, ignored");
    }
  }
}

}  // namespace

std::size_t population_after_restarts(const EvolutionSpec& evolution, std::int64_t restarts) {
  const auto base = static_cast<std::size_t>(evolution.population_size);
  if (evolution.algorithm == Algorithm::kGa) return base;
  const auto doublings = std::clamp<std::int64_t>(restarts, 0, evolution.cma_restarts);
  return base << doublings;
}

std::string_view name_of(Activation value) {
  return name_in(kActivations, value);
}
std::string_view name_of(ParentSelection value) {
  return name_in(kSelections, value);
}
std::string_view name_of(MutationType value) {
  return name_in(kMutations, value);
}
std::string name_of(Crossover value) {
  if (value.kind == CrossoverKind::kPoints) return fmt::format("{}_points", value.points);
  return std::string(name_in(kCrossovers, value.kind));
}
std::string_view name_of(Initialization value) {
  return name_in(kInitializations, value);
}
std::string_view name_of(CandidatesToPersist value) {
  return name_in(kPersistChoices, value);
}
std::string_view name_of(Algorithm value) {
  return name_in(kAlgorithms, value);
}

// "uniform_weight", "uniform_layer", "clone_daddy", "<k>_points" (also "<k>_point"), or
// the earlier "uniform" and "one_point".
std::optional<Crossover> crossover_named(std::string_view name) {
  for (const auto& choice : kCrossovers) {
    if (choice.name == name) return Crossover{.kind = choice.value};
  }
  if (name == "one_point") return Crossover{.kind = CrossoverKind::kPoints, .points = 1};
  const auto underscore = name.find('_');
  if (underscore == std::string_view::npos || underscore == 0) return std::nullopt;
  const auto suffix = name.substr(underscore);
  if (suffix != "_points" && suffix != "_point") return std::nullopt;
  std::size_t points = 0;
  for (char c : name.substr(0, underscore)) {
    if (c < '0' || c > '9' || points > kMaxCrossoverPoints) return std::nullopt;
    points = points * 10 + static_cast<std::size_t>(c - '0');
  }
  if (points < 1 || points > kMaxCrossoverPoints) return std::nullopt;
  return Crossover{.kind = CrossoverKind::kPoints, .points = points};
}

bool valid_experiment_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '_' || c == '.';
    if (!allowed) return false;
  }
  return id != "." && id != "..";
}

ParamsReport check_params(std::string_view json) {
  auto parsed = json::parse(json, {.max_bytes = ParamsLimits::kMaxDocumentBytes});
  ParamsReport report;
  if (!parsed.ok()) {
    report.errors.push_back({parsed.issue->path, parsed.issue->reason});
    return report;
  }
  const Json& root = parsed.value;
  if (!root.is_object()) {
    report.errors.push_back({"", "must be a JSON object, got " + describe(root)});
    return report;
  }
  Problems problems;
  ExperimentParams params;
  params.network = read_network(root, problems);
  params.evolution = read_evolution(root, problems);
  params.leaf = read_leaf(root, problems);
  warn_unknown_sections(root, problems);
  if (!problems.has_errors()) read_cma_population(root, params, problems);
  if (!problems.has_errors()) check_sizes(params, problems);
  report.errors = problems.take_errors();
  report.warnings = problems.take_warnings();
  if (report.errors.empty()) report.params = std::move(params);
  return report;
}

Result<ExperimentParams> parse_params(std::string_view json) {
  auto report = check_params(json);
  if (report.params) return std::move(*report.params);
  std::string message;
  for (const auto& issue : report.errors) {
    if (!message.empty()) message += '\n';
    message += issue.to_string();
  }
  return Error{Code::kInvalidArgument, std::move(message), std::move(report.errors)};
}

}  // namespace esp::evolution
