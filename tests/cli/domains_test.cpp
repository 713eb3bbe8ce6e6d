// The benchmark domains of `esp run`: the double pole's physics against values computed
// apart (the same equations in Python, double precision), its fitness rules, and the
// test functions at known points.
#include "cli/domains.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "cli/pole_balancing.h"
#include "evolution/params.h"

namespace esp::cli {
namespace {

TEST(PoleBalancing, OnePushFromTheStandardStartMovesAsTheEquationsSay) {
  const auto state = poles::act(poles::standard_start(), 1.0);  // full force to the right
  const double expected[6] = {0.0019359705924926543, 0.1936112465534436,  0.06711996704253873,
                              -0.26948207150753184,  -0.0291695508089332, -2.9306938751421177};
  for (int i = 0; i < 6; ++i)
    EXPECT_NEAR(state[i], expected[i], 1e-12) << "state[" << i << "]";
}

TEST(PoleBalancing, WithoutAForceThePolesFallWithinAHalfSecond) {
  // The long pole leans 4 degrees; the cart's reaction throws the short one past 36.
  EXPECT_EQ(
      poles::balance(poles::standard_start(), 100'000, [](const poles::State&) { return 0.5; }),
      22);
  EXPECT_FALSE(poles::failed(poles::standard_start()));
  EXPECT_TRUE(poles::failed({2.41, 0, 0, 0, 0, 0}));
  EXPECT_TRUE(poles::failed({0, 0, 0, 0, -0.63, 0}));
}

TEST(PoleBalancing, TheDynamicsAreMirrorSymmetric) {
  poles::State left = poles::standard_start(), right = poles::standard_start();
  right[2] = -right[2];
  for (int step = 0; step < 10; ++step) {
    left = poles::act(left, 0.7);
    right = poles::act(right, 0.3);
  }
  for (int i = 0; i < 6; ++i)
    EXPECT_NEAR(left[i], -right[i], 1e-12);
}

TEST(PoleBalancing, GruauFitnessCountsStepsAndNeedsAHundredForItsDampingTerm) {
  // Falls after 22 steps: only the first term, 0.1 * 22 / 1000.
  EXPECT_DOUBLE_EQ(poles::gruau_fitness([](const poles::State&) { return 0.5; }), 0.1 * 22 / 1000);
  // Doing nothing balances only the 5 starts at rest with both poles upright (the cart
  // still, anywhere on the track): an equilibrium, far from the 200 that pass.
  EXPECT_EQ(poles::generalisation_score([] { return [](const poles::State&) { return 0.5; }; }), 5);
}

TEST(Domains, TestFunctionsAtKnownPoints) {
  auto params = evolution::parse_params(R"({
    "network": {"inputs": [{"name": "c", "size": 1}], "hidden_layers": [],
                "outputs": [{"name": "a", "size": 2}]},
    "evolution": {"population_size": 4, "fitness": [{"metric_name": "f", "maximize": false}]}})");
  ASSERT_TRUE(params.ok()) << params.error().message;
  evolution::ForwardPass pass{evolution::NetworkShape(params->network)};
  const std::vector<float> ones(4, 1.0F), ramp{0, 1, 2, 3}, zeros(4, 0.0F);
  auto f = [&](std::string_view name, const std::vector<float>& genome) {
    auto domain = find_domain(name);
    EXPECT_FALSE(domain->check_network(pass.shape()).has_value());
    return domain->evaluate(pass, genome, 0).at("f");
  };
  EXPECT_DOUBLE_EQ(f("sphere", ramp), 14);
  EXPECT_DOUBLE_EQ(f("rosenbrock", ones), 0);
  EXPECT_DOUBLE_EQ(f("rosenbrock", zeros), 3);  // (1 - 0)^2 for each of the three pairs
  EXPECT_NEAR(f("rastrigin", zeros), 0, 1e-12);
  EXPECT_NEAR(f("rastrigin", ones), 4, 1e-9);  // 10 + 1 - 10 cos(2 pi) per weight
}

TEST(Domains, DoublePolesNeedSixInputsAndOneOutput) {
  auto params = evolution::parse_params(R"({
    "network": {"inputs": [{"name": "c", "size": 4}], "outputs": [{"name": "a", "size": 1}]},
    "evolution": {"population_size": 4, "fitness": [{"metric_name": "steps", "maximize": true}]}})");
  ASSERT_TRUE(params.ok()) << params.error().message;
  const evolution::NetworkShape shape(params->network);
  for (auto name : {"double-pole", "double-pole-nv"}) {
    auto wrong = find_domain(name)->check_network(shape);
    ASSERT_TRUE(wrong.has_value()) << name;
    EXPECT_NE(wrong->find("needs 6 context inputs and 1 outputs"), std::string::npos) << *wrong;
  }
}

}  // namespace
}  // namespace esp::cli
