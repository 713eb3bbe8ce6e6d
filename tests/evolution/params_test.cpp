#include "evolution/params.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <tuple>

namespace esp::evolution {
namespace {

using Json = nlohmann::json;

std::string read_fixture(const std::string& name) {
  std::ifstream file(std::string(ESP_FIXTURES_DIR) + "/" + name);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

Json minimal() {
  return Json::parse(R"({
    "network": {
      "inputs": [{"name": "context", "size": 4, "values": ["float"]}],
      "hidden_layers": [{"layer_name": "h", "layer_type": "Dense",
                         "layer_params": {"units": 8, "activation": "tanh", "use_bias": true}}],
      "outputs": [{"name": "action", "size": 2, "activation": "softmax", "use_bias": true,
                   "values": ["a", "b"]}]
    }
  })");
}

std::vector<std::string> error_lines(const Json& document) {
  std::vector<std::string> lines;
  for (const auto& issue : check_params(document.dump()).errors)
    lines.push_back(issue.to_string());
  return lines;
}

TEST(Params, ReadsTheExampleFixture) {
  auto params = parse_params(read_fixture("experiment.json"));
  ASSERT_TRUE(params.ok()) << params.error().message;
  EXPECT_EQ(params->evolution.population_size, 20);
  EXPECT_EQ(params->evolution.nb_elites, 2);
  ASSERT_EQ(params->network.hidden_layers.size(), 1U);
  EXPECT_EQ(params->network.hidden_layers[0].units, 16U);
  EXPECT_EQ(params->network.hidden_layers[0].activation, Activation::kTanh);
  EXPECT_EQ(params->network.outputs[0].activation, Activation::kSoftmax);
  ASSERT_EQ(params->evolution.fitness.size(), 1U);
  EXPECT_EQ(params->evolution.fitness[0].metric_name, "score");
  EXPECT_EQ(params->leaf.version, "v1");
  EXPECT_TRUE(check_params(read_fixture("experiment.json")).warnings.empty());
}

TEST(Params, ReadsTheMultiObjectiveFixture) {
  auto params = parse_params(read_fixture("experiment-moo.json"));
  ASSERT_TRUE(params.ok()) << params.error().message;
  ASSERT_EQ(params->evolution.fitness.size(), 2U);
  EXPECT_TRUE(params->evolution.fitness[0].maximize);
  EXPECT_FALSE(params->evolution.fitness[1].maximize);
  EXPECT_EQ(params->evolution.population_size, 100);
}

TEST(Params, DefaultsMatchTheDocument) {
  auto params = parse_params(minimal().dump());
  ASSERT_TRUE(params.ok()) << params.error().message;
  const auto& e = params->evolution;
  EXPECT_EQ(e.nb_generations, 10);
  EXPECT_EQ(e.population_size, 10);
  EXPECT_EQ(e.nb_elites, 2);
  EXPECT_EQ(e.parent_selection, ParentSelection::kTournament);
  EXPECT_DOUBLE_EQ(e.remove_population_pct, 0.8);
  EXPECT_EQ(e.mutation_type, std::vector{MutationType::kGaussianNoisePercentage});
  EXPECT_DOUBLE_EQ(e.mutation_probability, 0.1);
  EXPECT_DOUBLE_EQ(e.mutation_factor, 0.1);
  EXPECT_EQ(e.crossover, std::vector{Crossover{}});
  EXPECT_DOUBLE_EQ(e.crossover_rate, 1.0);
  EXPECT_EQ(e.initialization_distribution, Initialization::kOrthogonal);
  EXPECT_DOUBLE_EQ(e.initialization_range, 1.0);
  ASSERT_EQ(e.fitness.size(), 1U);
  EXPECT_EQ(e.fitness[0].metric_name, "score");
  EXPECT_TRUE(e.fitness[0].maximize);
  EXPECT_FALSE(e.seed.has_value());
  EXPECT_EQ(params->leaf.representation, "KerasNN");  // what the SDK's code assumes
  EXPECT_EQ(params->leaf.candidates_to_persist, CandidatesToPersist::kBest);
  EXPECT_TRUE(params->leaf.reevaluate_elites);
}

TEST(Params, AcceptsAnSdkUsersFileUnchangedWithEveryChoiceItMakes) {
  auto report = check_params(read_fixture("experiment-sdk.json"));
  ASSERT_TRUE(report.params) << (report.errors.empty() ? "" : report.errors[0].to_string());
  EXPECT_TRUE(report.warnings.empty()) << report.warnings[0].to_string();
  const auto& e = report.params->evolution;
  EXPECT_EQ(e.parent_selection, ParentSelection::kTournamentDistinct);
  EXPECT_EQ(e.crossover, (std::vector<Crossover>{{.kind = CrossoverKind::kUniformWeight},
                                                 {.kind = CrossoverKind::kPoints, .points = 2},
                                                 {.kind = CrossoverKind::kCloneDaddy}}));
  EXPECT_EQ(e.mutation_type, (std::vector{MutationType::kGaussianNoisePercentage,
                                          MutationType::kGaussianNoiseFixed}));
  EXPECT_EQ(e.initialization_distribution, Initialization::kCauchy);
  EXPECT_TRUE(e.early_stop);
  EXPECT_EQ(e.fitness.at(0).target, 0.95);
  EXPECT_FALSE(report.params->leaf.reevaluate_elites);
}

TEST(Params, ReadsEveryChoiceTheSdkNames) {
  for (const auto* selection : {"tournament", "tournament_distinct", "proportion", "ranking",
                                "sigma_scaling", "random", "best"}) {
    auto document = minimal();
    document["evolution"] = {{"parent_selection", selection}};
    auto params = parse_params(document.dump());
    ASSERT_TRUE(params.ok()) << selection << ": " << params.error().message;
    EXPECT_EQ(name_of(params->evolution.parent_selection), selection);
  }
  for (const auto* crossover :
       {"uniform_weight", "uniform_layer", "1_points", "3_points", "clone_daddy"}) {
    auto document = minimal();
    document["evolution"] = {{"crossover", crossover}};
    auto params = parse_params(document.dump());
    ASSERT_TRUE(params.ok()) << crossover << ": " << params.error().message;
    EXPECT_EQ(name_of(params->evolution.crossover.at(0)), crossover);
  }
  auto document = minimal();
  document["evolution"] = {{"mutation_type", "none"},
                           {"initialization_distribution", "cauchy"},
                           {"crossover", "uniform"}};
  document["LEAF"] = {{"candidates_to_persist", "pareto"}};
  auto params = parse_params(document.dump());
  ASSERT_TRUE(params.ok()) << params.error().message;
  EXPECT_EQ(params->evolution.mutation_type, std::vector{MutationType::kNone});
  EXPECT_EQ(params->evolution.crossover.at(0), Crossover{});  // "uniform" is uniform_weight
  EXPECT_EQ(params->leaf.candidates_to_persist, CandidatesToPersist::kPareto);
}

TEST(Params, NetworkDefaultsAreTheOriginalServicesTenTanhUnitsAndSigmoidOutputs) {
  auto params = parse_params(R"({"network": {
      "inputs": [{"name": "x", "size": 2}],
      "hidden_layers": [{"layer_name": "h"}],
      "outputs": [{"name": "y", "size": 1}]}})");
  ASSERT_TRUE(params.ok()) << params.error().message;
  const auto& hidden = params->network.hidden_layers.at(0);
  EXPECT_EQ(std::tuple(hidden.units, hidden.activation, hidden.use_bias),
            std::tuple(std::size_t{10}, Activation::kTanh, true));
  EXPECT_EQ(params->network.outputs.at(0).activation, Activation::kSigmoid);
  // Straight on the inputs (no hidden layer, or one of 0 units) outputs are linear.
  auto direct = parse_params(R"({"network": {
      "inputs": [{"name": "x", "size": 2}],
      "hidden_layers": [{"layer_params": {"units": 0}}],
      "outputs": [{"name": "y", "size": 1}]}})");
  ASSERT_TRUE(direct.ok()) << direct.error().message;
  EXPECT_EQ(direct->network.outputs.at(0).activation, Activation::kLinear);
}

TEST(Params, ReadsEveryEvolutionSetting) {
  auto document = minimal();
  document["evolution"] = Json::parse(R"({
    "nb_generations": 3, "population_size": 50, "nb_elites": 5, "parent_selection": "proportion",
    "remove_population_pct": 0.5, "mutation_type": "uniform_reset", "mutation_probability": 0.25,
    "mutation_factor": 0.3, "crossover": "one_point", "crossover_rate": 0.7,
    "initialization_distribution": "glorot", "initialization_range": 2.5, "seed": 42,
    "fitness": [{"metric_name": "profit", "maximize": true}, {"metric_name": "risk", "maximize": false}]
  })");
  auto params = parse_params(document.dump());
  ASSERT_TRUE(params.ok()) << params.error().message;
  const auto& e = params->evolution;
  EXPECT_EQ(e.nb_generations, 3);
  EXPECT_EQ(e.population_size, 50);
  EXPECT_EQ(e.nb_elites, 5);
  EXPECT_EQ(e.parent_selection, ParentSelection::kProportion);
  EXPECT_DOUBLE_EQ(e.remove_population_pct, 0.5);
  EXPECT_EQ(e.mutation_type, std::vector{MutationType::kUniformReset});
  EXPECT_DOUBLE_EQ(e.mutation_probability, 0.25);
  EXPECT_DOUBLE_EQ(e.mutation_factor, 0.3);
  // esp's earlier name for a single cut.
  EXPECT_EQ(e.crossover, (std::vector{Crossover{.kind = CrossoverKind::kPoints, .points = 1}}));
  EXPECT_DOUBLE_EQ(e.crossover_rate, 0.7);
  EXPECT_EQ(e.initialization_distribution, Initialization::kXavier);
  EXPECT_DOUBLE_EQ(e.initialization_range, 2.5);
  EXPECT_EQ(e.seed, 42U);
  ASSERT_EQ(e.fitness.size(), 2U);
  EXPECT_EQ(e.fitness[1].metric_name, "risk");
  EXPECT_FALSE(e.fitness[1].maximize);
}

TEST(Params, AcceptsTheOlderFlatHiddenLayer) {
  auto document = minimal();
  document["network"].erase("hidden_layers");
  document["network"]["nb_hidden_units"] = 12;
  document["network"]["activation_function"] = "relu";
  document["network"]["use_bias"] = false;
  auto params = parse_params(document.dump());
  ASSERT_TRUE(params.ok()) << params.error().message;
  ASSERT_EQ(params->network.hidden_layers.size(), 1U);
  EXPECT_EQ(params->network.hidden_layers[0].units, 12U);
  EXPECT_EQ(params->network.hidden_layers[0].activation, Activation::kRelu);
  EXPECT_FALSE(params->network.hidden_layers[0].use_bias);
}

struct BadValue {
  const char* pointer;   // JSON pointer of the value to replace
  const char* value;     // JSON text
  const char* expected;  // the whole error line
};

class ParamsRejects : public testing::TestWithParam<BadValue> {};

TEST_P(ParamsRejects, NamesThePathAndTheReason) {
  auto document = minimal();
  document["evolution"] = Json::object();
  document["LEAF"] = Json::object();
  document[Json::json_pointer(GetParam().pointer)] = Json::parse(GetParam().value);
  auto lines = error_lines(document);
  ASSERT_EQ(lines.size(), 1U) << testing::PrintToString(lines);
  EXPECT_EQ(lines[0], GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    EveryRule, ParamsRejects,
    testing::Values(
        BadValue{"/evolution/population_size", "0",
                 "evolution.population_size: must be >= 2, got 0"},
        BadValue{"/evolution/population_size", "\"ten\"",
                 "evolution.population_size: must be an integer, got \"ten\""},
        BadValue{"/evolution/population_size", "10.5",
                 "evolution.population_size: must be an integer, got 10.5"},
        BadValue{"/evolution/population_size", "2000000",
                 "evolution.population_size: must be <= 1000000, got 2000000"},
        BadValue{"/evolution/nb_generations", "0", "evolution.nb_generations: must be >= 1, got 0"},
        BadValue{"/evolution/nb_elites", "-1", "evolution.nb_elites: must be >= 0, got -1"},
        BadValue{"/evolution/nb_elites", "10",
                 "evolution.nb_elites: must be < population_size (got 10 >= 10)"},
        BadValue{"/evolution/parent_selection", "\"roulette\"",
                 "evolution.parent_selection: must be one of tournament, tournament_distinct, "
                 "proportion, ranking, sigma_scaling, random, best, got \"roulette\""},
        BadValue{"/evolution/remove_population_pct", "1",
                 "evolution.remove_population_pct: must be < 1, got 1"},
        BadValue{"/evolution/remove_population_pct", "-0.1",
                 "evolution.remove_population_pct: must be >= 0, got -0.1"},
        BadValue{"/evolution/mutation_type", "3",
                 "evolution.mutation_type: must be one of gaussian_noise_percentage, "
                 "gaussian_noise_fixed, uniform_reset, none, got 3"},
        BadValue{"/evolution/mutation_type", "[\"none\", \"gaussian\"]",
                 "evolution.mutation_type[1]: must be one of gaussian_noise_percentage, "
                 "gaussian_noise_fixed, uniform_reset, none, got \"gaussian\""},
        BadValue{"/evolution/mutation_type", "[]",
                 "evolution.mutation_type: must not be an empty list"},
        BadValue{"/evolution/mutation_probability", "1.5",
                 "evolution.mutation_probability: must be <= 1, got 1.5"},
        BadValue{"/evolution/mutation_factor", "-1",
                 "evolution.mutation_factor: must be >= 0, got -1"},
        BadValue{"/evolution/mutation_factor", "\"big\"",
                 "evolution.mutation_factor: must be a number, got \"big\""},
        BadValue{"/evolution/crossover", "\"two_point\"",
                 "evolution.crossover: must be one of uniform_weight, uniform_layer, <k>_points "
                 "(e.g. 3_points), clone_daddy, or a list of these, got \"two_point\""},
        BadValue{"/evolution/crossover", "[\"clone_daddy\", \"0_points\"]",
                 "evolution.crossover[1]: must be one of uniform_weight, uniform_layer, "
                 "<k>_points (e.g. 3_points), clone_daddy, or a list of these, got \"0_points\""},
        BadValue{"/evolution/early_stop", "true",
                 "evolution.early_stop: needs exactly one fitness objective with a target "
                 "(fitness[0].target)"},
        BadValue{"/evolution/crossover_rate", "2", "evolution.crossover_rate: must be <= 1, got 2"},
        BadValue{"/evolution/initialization_distribution", "\"zeros\"",
                 "evolution.initialization_distribution: must be one of orthogonal, uniform, "
                 "normal, cauchy, xavier, glorot, he, got \"zeros\""},
        BadValue{"/evolution/initialization_range", "0",
                 "evolution.initialization_range: must be > 0, got 0"},
        BadValue{"/evolution/seed", "-3", "evolution.seed: must be >= 0, got -3"},
        BadValue{"/evolution/fitness", "[]", "evolution.fitness: must not be empty"},
        BadValue{"/evolution/fitness", "{}", "evolution.fitness: must be an array, got an object"},
        BadValue{"/evolution/fitness", "[{\"maximize\": true}]",
                 "evolution.fitness[0].metric_name: required"},
        BadValue{"/evolution/fitness",
                 "[{\"metric_name\": \"a\"}, {\"metric_name\": \"a\", \"maximize\": false}]",
                 "evolution.fitness[1].metric_name: duplicate name \"a\""},
        BadValue{"/evolution/fitness", "[{\"metric_name\": \"a\", \"maximize\": \"yes\"}]",
                 "evolution.fitness[0].maximize: must be true or false, got \"yes\""},
        BadValue{"/evolution", "[1]", "evolution: must be an object, got an array"},
        BadValue{"/network/inputs", "[]", "network.inputs: must not be empty"},
        BadValue{"/network/inputs/0/size", "0", "network.inputs[0].size: must be >= 1, got 0"},
        BadValue{"/network/inputs/0/name", "\"\"", "network.inputs[0].name: must not be empty"},
        BadValue{"/network/inputs/0/values", "[\"x\", \"y\"]",
                 "network.inputs[0].size: must equal the number of values (2), got 4"},
        BadValue{"/network/hidden_layers/0/layer_type", "\"LSTM\"",
                 "network.hidden_layers[0].layer_type: must be \"Dense\", got \"LSTM\""},
        BadValue{"/network/hidden_layers/1", R"({"layer_params": {"units": 0}})",
                 "network.hidden_layers[1].layer_params.units: must be >= 1, got 0"},
        BadValue{"/network/outputs/0/name", "\"context\"",
                 "network.outputs[0].name: \"context\" is also the name of input 0; layer names "
                 "must be unique in the model"},
        BadValue{"/network/outputs/0/name", "\"first_hidden_activation\"",
                 "network.outputs[0].name: \"first_hidden_activation\" is also the first hidden "
                 "layer's activation; layer names must be unique in the model"},
        BadValue{"/network/hidden_layers/0/layer_params/activation", "\"gelu\"",
                 "network.hidden_layers[0].layer_params.activation: must be one of linear, relu, "
                 "tanh, sigmoid, softmax, got \"gelu\""},
        BadValue{"/network/hidden_layers/0/layer_params", "5",
                 "network.hidden_layers[0].layer_params: must be an object, got 5"},
        BadValue{"/network/outputs/0/use_bias", "1",
                 "network.outputs[0].use_bias: must be true or false, got 1"},
        BadValue{"/network/outputs", "\"action\"",
                 "network.outputs: must be an array, got \"action\""},
        BadValue{"/network/outputs/0/size", "3",
                 "network.outputs[0].size: must equal the number of values (2), got 3"},
        BadValue{"/network/hidden_layers",
                 R"([{"layer_params": {"units": 1000000}}, {"layer_params": {"units": 1000000}}])",
                 "network: has 1000008000002 weights; at most 100000000 are allowed"},
        BadValue{"/LEAF/representation", "\"RuleBased\"",
                 "LEAF.representation: \"RuleBased\" is not supported: esp evolves neural "
                 "networks (NNWeights, KerasNN, or esp's NNWeightsBinary)"},
        BadValue{"/LEAF/representation", "\"Tree\"",
                 "LEAF.representation: must be one of NNWeights, KerasNN, NNWeightsBinary, got "
                 "\"Tree\""},
        BadValue{"/LEAF/candidates_to_persist", "\"some\"",
                 "LEAF.candidates_to_persist: must be one of all, elites, best, none, pareto, got "
                 "\"some\""},
        BadValue{
            "/LEAF/experiment_id", "\"a/b\"",
            "LEAF.experiment_id: must be 1 to 128 letters, digits, '-', '_' or '.', got \"a/b\""},
        BadValue{"/LEAF/esp_port", "70000", "LEAF.esp_port: must be <= 65535, got 70000"},
        BadValue{"/LEAF/grpc_options", "5", "LEAF.grpc_options: must be an object, got 5"},
        BadValue{"/LEAF", "\"x\"", "LEAF: must be an object, got \"x\""},
        BadValue{"/network/activation_function", "\"tanh\"",
                 "network.nb_hidden_units: required with activation_function or use_bias"},
        BadValue{"/network/hidden_layers", "{}",
                 "network.hidden_layers: must be an array, got an object"},
        BadValue{"/network/inputs/1", R"({"name": "context", "size": 1})",
                 "network.inputs[1].name: duplicate name \"context\""},
        BadValue{"/evolution/seed", "9007199254740993",
                 "evolution.seed: must be <= 9007199254740992, got 9007199254740993"},
        BadValue{"/LEAF/reevaluate_elites", "\"no\"",
                 "LEAF.reevaluate_elites: must be true or false, got \"no\""}));

TEST(Params, ReportsEveryProblemAtOnce) {
  auto document = minimal();
  document["evolution"] = {{"population_size", 0}, {"mutation_probability", 2}, {"crossover", 1}};
  document["network"]["outputs"][0]["size"] = -1;
  auto report = check_params(document.dump());
  EXPECT_FALSE(report.params.has_value());
  std::vector<std::string> paths;
  for (const auto& issue : report.errors)
    paths.push_back(issue.path);
  EXPECT_EQ(paths,
            (std::vector<std::string>{"network.outputs[0].size", "evolution.population_size",
                                      "evolution.mutation_probability", "evolution.crossover"}));
  auto result = parse_params(document.dump());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, Code::kInvalidArgument);
  EXPECT_NE(result.error().message.find("evolution.population_size: must be >= 2, got 0\n"),
            std::string::npos);
}

TEST(Params, WarnsAboutUnknownKeysWithoutFailing) {
  auto document = minimal();
  document["evolution"] = {{"population_size", 12}, {"mutaton_rate", 0.2}};
  document["network"]["inputs"][0]["colour"] = "blue";
  document["extra"] = true;
  auto report = check_params(document.dump());
  ASSERT_TRUE(report.params.has_value());
  EXPECT_EQ(report.params->evolution.population_size, 12);
  std::vector<std::string> warnings;
  for (const auto& issue : report.warnings)
    warnings.push_back(issue.to_string());
  EXPECT_EQ(warnings, (std::vector<std::string>{"network.inputs[0].colour: unknown key, ignored",
                                                "evolution.mutaton_rate: unknown key, ignored",
                                                "extra: unknown key, ignored"}));
}

TEST(Params, RefusesDeepNestingNamingThePathBeforeAnythingRecursive) {
  // 100,000 levels would overflow the stack in dump or copy; the parse stops at 64.
  const std::string deep =
      R"({"network": {}, "extra": )" + std::string(100'000, '[') + std::string(100'000, ']') + "}";
  const auto report = check_params(deep);
  ASSERT_EQ(report.errors.size(), 1u);
  EXPECT_EQ(report.errors[0].reason, "nested deeper than 64 levels");
  EXPECT_TRUE(report.errors[0].path.starts_with("extra[0][0][0]")) << report.errors[0].path;
  EXPECT_FALSE(report.params.has_value());
}

TEST(Params, RefusesDocumentsOverTheirSizeLimit) {
  const std::string large =
      R"({"network": {}, "extra": ")" + std::string(ParamsLimits::kMaxDocumentBytes, 'x') + R"("})";
  const auto report = check_params(large);
  ASSERT_EQ(report.errors.size(), 1u);
  EXPECT_TRUE(report.errors[0].reason.starts_with("larger than 1048576 bytes"));
}

TEST(Params, RejectsDocumentsThatAreNotParameterObjects) {
  EXPECT_EQ(error_lines(Json::array()),
            std::vector<std::string>{"must be a JSON object, got an array"});
  EXPECT_TRUE(check_params("{\"network\": ").errors.at(0).reason.starts_with("not valid JSON"));
  EXPECT_TRUE(check_params("").errors.at(0).reason.starts_with("not valid JSON"));
  EXPECT_EQ(error_lines(Json::object()), std::vector<std::string>{"network: required"});
  EXPECT_EQ(error_lines(Json{{"network", Json::object()}}),
            (std::vector<std::string>{"network.inputs: required", "network.outputs: required"}));
}

TEST(Params, RejectsTwoWaysOfGivingHiddenLayers) {
  auto document = minimal();
  document["network"]["nb_hidden_units"] = 4;
  EXPECT_EQ(error_lines(document),
            std::vector<std::string>{
                "network.nb_hidden_units: give either hidden_layers or nb_hidden_units, not both"});
}

TEST(Params, RejectsPopulationsTooLargeForOneGeneration) {
  auto document = minimal();
  document["network"]["hidden_layers"][0]["layer_params"]["units"] = 100000;
  document["evolution"] = {{"population_size", 10000}};
  auto lines = error_lines(document);
  ASSERT_EQ(lines.size(), 1U);
  EXPECT_EQ(lines[0].rfind("evolution.population_size: 10000 candidates of 700002 weights", 0), 0U)
      << lines[0];
}

TEST(Params, NeverCrashesOnHostileInput) {
  std::string deep(100000, '[');
  EXPECT_FALSE(check_params(deep).errors.empty());
  EXPECT_FALSE(check_params("\xff\xfe").errors.empty());
  auto document = minimal();
  document["network"]["inputs"][0] = 7;
  document["evolution"] = {{"fitness", {1, "x", nullptr}}};
  auto lines = error_lines(document);
  EXPECT_EQ(lines, (std::vector<std::string>{"network.inputs[0]: must be an object, got 7",
                                             "evolution.fitness[0]: must be an object, got 1",
                                             "evolution.fitness[1]: must be an object, got \"x\"",
                                             "evolution.fitness[2]: must be an object, got null"}));
}

}  // namespace
}  // namespace esp::evolution
