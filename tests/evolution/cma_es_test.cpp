// CMA-ES, sep-CMA-ES and active CMA-ES: the update against DEAP's cma.Strategy and the
// active one against the cmaes library's CMA on a small problem (their numbers computed
// with Debian's python3-deap and python3-cmaes), the state's round trip, convergence on
// the sphere within a budget, the same bits for any thread count, restarts (IPOP), and
// the settings.
#include "evolution/cma_es.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <vector>

#include "evolution/engine.h"
#include "evolution/params.h"

namespace esp::evolution {
namespace {

double sphere(std::span<const float> x) {
  double sum = 0;
  for (float v : x)
    sum += static_cast<double>(v) * v;
  return sum;
}

// The points DEAP was given, best (smallest sphere) first, as update() sorts them.
std::vector<std::vector<float>> sorted_by_sphere(std::vector<std::vector<float>> points) {
  std::ranges::stable_sort(points,
                           [](const auto& a, const auto& b) { return sphere(a) < sphere(b); });
  return points;
}

std::vector<std::span<const float>> spans(const std::vector<std::vector<float>>& points) {
  return {points.begin(), points.end()};
}

void expect_near(const std::vector<double>& actual, const std::vector<double>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i)
    EXPECT_NEAR(actual[i], expected[i], 1e-12) << "at " << i;
}

// The six points both reference updates were given (n = 3, lambda = 6, sigma 0.5), and
// the second generation's: each halved and shifted by 1/16 (all exact in float).
std::vector<std::vector<float>> small_problem() {
  return {{0.5F, -0.25F, 0.125F},   {1.0F, 0.5F, -0.5F},   {-0.375F, 0.25F, 0.75F},
          {0.25F, 0.125F, -0.125F}, {-1.0F, -0.5F, 0.25F}, {0.625F, -0.75F, 0.5F}};
}

std::vector<std::vector<float>> halved_and_shifted(const std::vector<std::vector<float>>& points) {
  std::vector<std::vector<float>> out;
  for (const auto& p : points)
    out.push_back({p[0] * 0.5F + 0.0625F, p[1] * 0.5F + 0.0625F, p[2] * 0.5F + 0.0625F});
  return out;
}

TEST(CmaEs, TheUpdateIsDeapsOnASmallProblem) {
  const auto points = small_problem();
  const auto constants = CmaConstants::of(3, 6, CmaVariant::kFull);
  EXPECT_EQ(constants.mu, 3U);
  EXPECT_NEAR(constants.mueff, 2.0286114646100626, 1e-14);
  EXPECT_NEAR(constants.cs, 0.5017818438926943, 1e-14);
  EXPECT_NEAR(constants.damps, 1.5017818438926942, 1e-14);
  EXPECT_NEAR(constants.c1, 0.09747248265066792, 1e-14);
  EXPECT_NEAR(constants.cmu, 0.03859313919345096, 1e-14);

  const auto first_points = sorted_by_sphere(points);
  auto state = cma_update(cma_start(3, 0.5, CmaVariant::kFull), spans(first_points), 6);
  expect_near(state.mean, {0.2721505822840392, 0.028084549875831474, 0.014731339265164858});
  EXPECT_NEAR(state.sigma, 0.41243521323183496, 1e-12);
  expect_near(state.path_sigma, {0.6721770814879882, 0.06936524115439074, 0.036384521210883494});
  expect_near(state.path_c, {0.70043954451965, 0.07228178296725424, 0.03791435049838455});
  expect_near(state.covariance,
              {0.9305864010370044, 0.0013824378596487717, -0.001142378586462614,
               0.0013824378596487717, 0.8694821470430634, -0.0003733692416228828,
               -0.001142378586462614, -0.0003733692416228828, 0.8731042061943807});

  // A second generation goes through the eigendecomposition of the first's covariance.
  const auto next_points = halved_and_shifted(points);
  const auto second_points = sorted_by_sphere(next_points);
  state = cma_update(state, spans(second_points), 6);
  expect_near(state.mean, {0.19857529114201958, 0.07654227493791574, 0.06986566963258242});
  EXPECT_NEAR(state.sigma, 0.3139186249188591, 1e-12);
  expect_near(state.covariance,
              {0.808397663635035, -9.933173982587789e-05, -0.0022094795841366586,
               -9.933173982587789e-05, 0.7567496367825362, 0.0033679925598525235,
               -0.0022094795841366586, 0.0033679925598525235, 0.7617550504175583});
}

TEST(CmaEs, TheActiveUpdateIsTheCmaesLibrarysOnASmallProblem) {
  const auto points = small_problem();
  const auto constants = CmaConstants::of(3, 6, CmaVariant::kActive);
  EXPECT_EQ(constants.mu, 3U);
  EXPECT_NEAR(constants.mueff, 2.0286114646100617, 1e-14);
  EXPECT_NEAR(constants.cs, 0.40171179019414777, 1e-14);
  EXPECT_NEAR(constants.damps, 1.4017117901941478, 1e-14);
  EXPECT_NEAR(constants.c1, 0.09747248265066792, 1e-14);
  EXPECT_NEAR(constants.cmu, 0.038593139193450914, 1e-14);
  EXPECT_NEAR(constants.cc, 0.5598629786005055, 1e-14);
  expect_near(constants.weights, {0.6370425712412168, 0.28457025743803294, 0.07838717132075033,
                                  -0.28638378259655295, -0.7649580940851276, -1.1559817781589212});

  // Every candidate is learned from: the worse three shrink the covariance along their
  // directions, where DEAP's update (the test above) only grows it along the better.
  const auto first_points = sorted_by_sphere(points);
  auto state = cma_update(cma_start(3, 0.5, CmaVariant::kActive), spans(first_points), 6);
  expect_near(state.mean, {0.27215058228403927, 0.028084549875831446, 0.014731339265164768});
  EXPECT_NEAR(state.sigma, 0.42000166024328867, 1e-12);
  expect_near(state.path_sigma, {0.6211886878189543, 0.06410349938970845, 0.03362455164028585});
  expect_near(state.path_c, {0.6961157883004404, 0.07183559341230185, 0.037680308302955295});
  expect_near(state.covariance, {0.8477149081719406, -0.06411240041714002, 0.05169622074006317,
                                 -0.06411240041714002, 0.8999850180366996, 0.04069947898109472,
                                 0.05169622074006317, 0.04069947898109472, 0.9248762617632416});

  const auto next_points = halved_and_shifted(points);
  state = cma_update(state, spans(sorted_by_sphere(next_points)), 6);
  expect_near(state.mean, {0.1985752911420196, 0.07654227493791572, 0.0698656696325824});
  EXPECT_NEAR(state.sigma, 0.33212337372023576, 1e-12);
  expect_near(state.path_sigma, {0.15422215463780595, 0.1656589283933578, 0.17942196748837888});
  expect_near(state.covariance, {0.7396745027217114, -0.09762912007940243, 0.0720556432726401,
                                 -0.09762912007940243, 0.7736331674989924, 0.1104919501809052,
                                 0.0720556432726401, 0.1104919501809052, 0.8301446939901439});
}

TEST(CmaEs, TheStateSurvivesItsBytesAndCorruptBytesAreRefused) {
  for (auto variant : {CmaVariant::kFull, CmaVariant::kSeparable, CmaVariant::kActive}) {
    const std::vector<std::vector<float>> points = {
        {0.5F, 0.25F}, {-0.5F, 1.0F}, {0.125F, 0.0F}, {1.0F, -1.0F}};
    auto state = cma_update(cma_start(2, 0.3, variant), spans(sorted_by_sphere(points)), 4);
    cma_follow_best(state, 0.015625, 0);
    state.restarts = 2;
    const auto bytes = state.serialize();
    auto back = CmaState::parse(bytes);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->serialize(), bytes);
    EXPECT_EQ(back->variant, variant);
    EXPECT_EQ(back->updates, 1);
    EXPECT_EQ(back->restarts, 2);
    EXPECT_EQ(back->best_value, 0.015625);
    EXPECT_EQ(back->start_sigma, 0.3);

    // A state written before restarts existed (version 1: no restart record, no active
    // variant) is a first run.
    if (variant == CmaVariant::kActive) continue;
    const std::size_t head = 8 + 1 + 8 + 8 + 8, record = 4 * 8;
    const std::string first_run_only =
        std::string("ESPCMA1\0", 8) + bytes.substr(8, head - 8) + bytes.substr(head + record);
    auto old = CmaState::parse(first_run_only);
    ASSERT_TRUE(old.ok()) << old.error().message;
    EXPECT_EQ(old->restarts, 0);
    EXPECT_EQ(old->start_sigma, state.sigma);
    EXPECT_EQ(old->mean, state.mean);
    EXPECT_EQ(old->covariance, state.covariance);
    EXPECT_FALSE(CmaState::parse(bytes.substr(0, bytes.size() - 1)).ok());
    EXPECT_FALSE(CmaState::parse("not a state").ok());
    EXPECT_FALSE(CmaState::parse(bytes + "x").ok());
  }
}

ExperimentParams params_for(const std::string& algorithm, int weights_in = 4) {
  nlohmann::json document = {{"network",
                              {{"inputs", {{{"name", "c"}, {"size", weights_in}}}},
                               {"hidden_layers", nlohmann::json::array()},
                               {"outputs", {{{"name", "a"}, {"size", 2}, {"use_bias", false}}}}}},
                             {"evolution",
                              {{"algorithm", algorithm},
                               {"initialization_range", 1},
                               {"fitness", {{{"metric_name", "f"}, {"maximize", false}}}}}}};
  auto params = parse_params(document.dump());
  EXPECT_TRUE(params.ok()) << params.error().message;
  return *params;
}

// Evaluations until the best sample's sphere is below `target`, or the budget.
std::size_t evaluations_to_solve(const ExperimentParams& params, double target, std::size_t budget,
                                 unsigned threads = 1) {
  auto population = initial_population(params, 5, {.threads = threads});
  std::size_t evaluations = 0;
  while (evaluations < budget) {
    Scores scores(population.candidates.size(), 1);
    double best = INFINITY;
    for (std::size_t i = 0; i < population.candidates.size(); ++i) {
      scores.at(i, 0) = sphere(population.genomes[i]);
      best = std::min(best, scores.at(i, 0));
    }
    evaluations += population.candidates.size();
    if (best < target) return evaluations;
    auto next = next_generation(params, population, scores, 5, {.threads = threads});
    EXPECT_TRUE(next.ok()) << next.error().message;
    population = std::move(next->population);
  }
  return evaluations;
}

TEST(CmaEs, ConvergesOnTheSphereWithinABudget) {
  // n = 8 weights (4 inputs x 2 outputs), lambda = 4 + floor(3 ln 8) = 10.
  const auto full = params_for("cma_es");
  EXPECT_EQ(full.evolution.population_size, 10);
  EXPECT_LT(evaluations_to_solve(full, 1e-8, 3000), 3000U);
  EXPECT_LT(evaluations_to_solve(params_for("sep_cma_es"), 1e-8, 3000), 3000U);
  EXPECT_LT(evaluations_to_solve(params_for("active_cma_es"), 1e-8, 3000), 3000U);
}

TEST(CmaEs, TheSameSeedGivesTheSameBitsOnAnyThreadCount) {
  for (const char* algorithm : {"cma_es", "active_cma_es"}) {
    const auto params = params_for(algorithm, 6);
    auto run = [&](unsigned threads) {
      auto population = initial_population(params, 9, {.threads = threads});
      for (int g = 0; g < 4; ++g) {
        Scores scores(population.candidates.size(), 1);
        for (std::size_t i = 0; i < population.candidates.size(); ++i)
          scores.at(i, 0) = sphere(population.genomes[i]);
        population = std::move(
            next_generation(params, population, scores, 9, {.threads = threads})->population);
      }
      return population;
    };
    const auto one = run(1), three = run(3);
    EXPECT_EQ(one.strategy, three.strategy) << algorithm;
    for (std::size_t i = 0; i < one.candidates.size(); ++i)
      EXPECT_TRUE(std::ranges::equal(one.genomes[i], three.genomes[i])) << i;
    EXPECT_EQ(one.generation, 5);
    EXPECT_TRUE(one.candidates[0].identity.parents.empty());  // samples, not children
  }
}

TEST(CmaEs, ARunStallsWhenItsBestStopsImprovingAndRestartsFromTheStart) {
  // n = 3, lambda = 6: a run stalls after 10 + ceil(30 * 3 / 6) = 25 generations without
  // progress.
  auto state = cma_start(3, 0.5, CmaVariant::kFull);
  cma_follow_best(state, 2.0, 0);
  EXPECT_EQ(state.best_value, 2.0);
  EXPECT_EQ(state.updates_since_best, 0);
  for (int i = 0; i < 24; ++i)
    cma_follow_best(state, 2.0, 0);
  EXPECT_FALSE(cma_stall(state, 6).has_value());
  auto improved = state;
  cma_follow_best(improved, 1.5, 0);
  EXPECT_EQ(improved.updates_since_best, 0);
  cma_follow_best(state, 2.0, 0);
  const auto stall = cma_stall(state, 6);
  ASSERT_TRUE(stall.has_value());
  EXPECT_NE(stall->find("for 25 generations"), std::string::npos) << *stall;

  // With a tolerance, a run creeping by smaller steps stalls, and small steps that add
  // up to more than it count.
  auto creeping = cma_start(3, 0.5, CmaVariant::kFull);
  cma_follow_best(creeping, 1.0, 1e-3);
  for (int i = 1; i <= 25; ++i)
    cma_follow_best(creeping, 1.0 - 1e-5 * i, 1e-3);
  EXPECT_TRUE(cma_stall(creeping, 6).has_value());
  auto adding_up = cma_start(3, 0.5, CmaVariant::kFull);
  cma_follow_best(adding_up, 1.0, 1e-3);
  for (int i = 1; i <= 25; ++i)
    cma_follow_best(adding_up, 1.0 - 2e-4 * i, 1e-3);
  EXPECT_FALSE(cma_stall(adding_up, 6).has_value());
  EXPECT_EQ(adding_up.best_value, 1.0 - 2e-4 * 24);  // each 6th step counted

  const auto fresh = cma_restart(state);
  EXPECT_EQ(fresh.restarts, 1);
  EXPECT_EQ(fresh.sigma, 0.5);
  EXPECT_EQ(fresh.updates, 0);
  EXPECT_EQ(fresh.mean, std::vector<double>(3, 0.0));
  EXPECT_EQ(fresh.best_value, INFINITY);
  EXPECT_EQ(fresh.serialize(), [&] {
    auto start = cma_start(3, 0.5, CmaVariant::kFull);
    start.restarts = 1;
    return start.serialize();
  }());

  // A step size collapsed to nothing stalls a run however its best moves.
  auto collapsed = cma_start(3, 0.5, CmaVariant::kSeparable);
  collapsed.sigma = 1e-13;
  EXPECT_TRUE(cma_stall(collapsed, 6).has_value());
}

// Sizes of the populations a CMA-ES experiment breeds over `generations` generations
// under a flat fitness (every candidate scores 1: nothing ever improves), and the
// warnings the engine gave.
std::pair<std::vector<std::size_t>, std::vector<std::string>> sizes_under_a_flat_fitness(
    const ExperimentParams& params, int generations) {
  auto population = initial_population(params, 3);
  std::vector<std::size_t> sizes{population.candidates.size()};
  std::vector<std::string> warnings;
  for (int g = 0; g < generations; ++g) {
    Scores scores(population.candidates.size(), 1);
    for (std::size_t i = 0; i < population.candidates.size(); ++i)
      scores.at(i, 0) = 1;
    auto next = next_generation(params, population, scores, 3);
    EXPECT_TRUE(next.ok()) << next.error().message;
    population = std::move(next->population);
    sizes.push_back(population.candidates.size());
    warnings.insert(warnings.end(), next->warnings.begin(), next->warnings.end());
    EXPECT_TRUE(next->strategy.has_value());
    EXPECT_EQ(next->strategy->restart_reason.empty(), next->warnings.empty());
  }
  return {sizes, warnings};
}

TEST(CmaEs, AStalledRunRestartsWithTwiceThePopulationUpToCmaRestarts) {
  // n = 8, lambda = 10: the first run stalls on its 10 + ceil(240 / 10) = 34th update
  // without a better best (the 35th generation), the second, of 20, after 22 more.
  auto params = params_for("cma_es");
  params.evolution.cma_restarts = 2;
  const auto [sizes, warnings] = sizes_under_a_flat_fitness(params, 80);
  EXPECT_EQ(sizes[34], 10U);
  EXPECT_EQ(sizes[35], 20U);
  EXPECT_EQ(sizes[57], 20U);
  EXPECT_EQ(sizes[58], 40U);
  EXPECT_EQ(sizes.back(), 40U);  // no third restart
  ASSERT_EQ(warnings.size(), 2U);
  EXPECT_NE(warnings[0].find("restarts (1 of at most 2) with 20 candidates"), std::string::npos)
      << warnings[0];
  EXPECT_NE(warnings[1].find("restarts (2 of at most 2) with 40 candidates"), std::string::npos)
      << warnings[1];

  // Without cma_restarts (the default) a stalled run goes on as it is.
  const auto [unchanged, none] = sizes_under_a_flat_fitness(params_for("cma_es"), 80);
  EXPECT_EQ(unchanged.back(), 10U);
  EXPECT_TRUE(none.empty());
}

TEST(CmaEs, ANonCmaPopulationCannotBeContinuedByCma) {
  const auto params = params_for("cma_es");
  auto ga = params_for("ga");
  ga.evolution.population_size = params.evolution.population_size;
  const auto population = initial_population(ga, 1);
  auto next = next_generation(params, population, Scores(population.candidates.size(), 1), 1);
  ASSERT_FALSE(next.ok());
  EXPECT_NE(next.error().message.find("no CMA-ES state"), std::string::npos);
}

TEST(CmaEs, SettingsAreCheckedWithTheirPaths) {
  auto report = check_params(R"({"network": {"inputs": [{"name": "c", "size": 2}],
      "outputs": [{"name": "a", "size": 1}]},
      "evolution": {"algorithm": "cma_es", "cma_sigma": 0,
                    "fitness": [{"metric_name": "x"}, {"metric_name": "y"}]}})");
  std::vector<std::string> paths;
  for (const auto& issue : report.errors)
    paths.push_back(issue.path);
  EXPECT_NE(std::ranges::find(paths, "evolution.algorithm"), paths.end());
  EXPECT_NE(std::ranges::find(paths, "evolution.cma_sigma"), paths.end());
  auto unknown = check_params(R"({"network": {"inputs": [{"name": "c", "size": 2}],
      "outputs": [{"name": "a", "size": 1}]}, "evolution": {"algorithm": "pso"}})");
  ASSERT_FALSE(unknown.errors.empty());
  EXPECT_EQ(unknown.errors.front().path, "evolution.algorithm");
  // Full covariance for up to 2,000 weights: 50 x 50 inputs is 2,550.
  auto big = check_params(R"({"network": {"inputs": [{"name": "c", "size": 50}],
      "hidden_layers": [{"layer_params": {"units": 50}}], "outputs": [{"name": "a", "size": 1}]},
      "evolution": {"algorithm": "cma_es"}})");
  ASSERT_FALSE(big.errors.empty());
  EXPECT_EQ(big.errors.front().path, "evolution.algorithm");
  EXPECT_NE(big.errors.front().reason.find("sep_cma_es"), std::string::npos);
  auto given = check_params(R"({"network": {"inputs": [{"name": "c", "size": 2}],
      "outputs": [{"name": "a", "size": 1}]}, "evolution": {"algorithm": "sep_cma_es",
      "population_size": 32}})");
  ASSERT_TRUE(given.params.has_value());
  EXPECT_EQ(given.params->evolution.population_size, 32);
  // Restarts are CMA-ES's, and the population they double must stay within the bounds.
  auto ga_restarts = check_params(R"({"network": {"inputs": [{"name": "c", "size": 2}],
      "outputs": [{"name": "a", "size": 1}]}, "evolution": {"cma_restarts": 2}})");
  ASSERT_FALSE(ga_restarts.errors.empty());
  EXPECT_EQ(ga_restarts.errors.front().path, "evolution.cma_restarts");
  auto too_many = check_params(R"({"network": {"inputs": [{"name": "c", "size": 2}],
      "outputs": [{"name": "a", "size": 1}]}, "evolution": {"algorithm": "cma_es",
      "population_size": 100000, "cma_restarts": 4}})");
  ASSERT_FALSE(too_many.errors.empty());
  EXPECT_EQ(too_many.errors.front().path, "evolution.cma_restarts");
  EXPECT_NE(too_many.errors.front().reason.find("1600000 candidates"), std::string::npos)
      << too_many.errors.front().reason;
  auto tolfun = check_params(R"({"network": {"inputs": [{"name": "c", "size": 2}],
      "outputs": [{"name": "a", "size": 1}]}, "evolution": {"algorithm": "cma_es",
      "cma_tolfun": -1}})");
  ASSERT_FALSE(tolfun.errors.empty());
  EXPECT_EQ(tolfun.errors.front().path, "evolution.cma_tolfun");
  auto restarts = check_params(R"({"network": {"inputs": [{"name": "c", "size": 2}],
      "outputs": [{"name": "a", "size": 1}]}, "evolution": {"algorithm": "cma_es",
      "cma_restarts": 3, "cma_tolfun": 0.001}})");
  ASSERT_TRUE(restarts.params.has_value());
  EXPECT_EQ(restarts.params->evolution.cma_tolfun, 0.001);
  EXPECT_EQ(largest_population(restarts.params->evolution),
            8U * static_cast<std::size_t>(restarts.params->evolution.population_size));
  // A GA file's elites do not stop CMA-ES, which keeps none (here 20 >= its default 15).
  auto elites = check_params(R"({"network": {"inputs": [{"name": "c", "size": 2}],
      "outputs": [{"name": "a", "size": 1}]}, "evolution": {"algorithm": "cma_es",
      "nb_elites": 20}})");
  EXPECT_TRUE(elites.errors.empty()) << elites.errors.front().to_string();
}

}  // namespace
}  // namespace esp::evolution
