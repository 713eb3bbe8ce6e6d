#include "evolution/engine.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "evolution/network.h"

namespace esp::evolution {
namespace {

using Json = nlohmann::json;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

ExperimentParams params_from(const Json& evolution) {
  Json document = {
      {"network",
       {{"inputs", {{{"name", "context"}, {"size", 4}}}},
        {"hidden_layers", {{{"layer_params", {{"units", 16}, {"activation", "tanh"}}}}}},
        {"outputs", {{{"name", "action"}, {"size", 2}, {"activation", "softmax"}}}}}},
      {"evolution", evolution}};
  auto params = parse_params(document.dump());
  if (!params.ok()) throw std::runtime_error(params.error().message);
  return *params;
}

// Scores where candidate i scores f(i) on every objective.
Scores scores_by(std::size_t n, std::size_t objectives,
                 const std::function<double(std::size_t)>& f) {
  Scores scores(n, objectives);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < objectives; ++j)
      scores.at(i, j) = f(i);
  }
  return scores;
}

bool same_bits(std::span<const float> a, std::span<const float> b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size_bytes()) == 0;
}

bool same_population(const Population& a, const Population& b) {
  if (a.generation != b.generation || a.candidates.size() != b.candidates.size()) return false;
  for (std::size_t i = 0; i < a.candidates.size(); ++i) {
    const auto& x = a.candidates[i];
    const auto& y = b.candidates[i];
    if (x.id != y.id || x.elite != y.elite || x.identity.parents != y.identity.parents ||
        x.identity.crossover != y.identity.crossover || !same_bits(a.genomes[i], b.genomes[i])) {
      return false;
    }
  }
  return true;
}

TEST(InitialPopulation, IsGenerationOneOfFreshFiniteCandidates) {
  auto params = params_from({{"population_size", 30}});
  auto population = initial_population(params, 42);
  EXPECT_EQ(population.generation, 1);
  ASSERT_EQ(population.candidates.size(), 30U);
  EXPECT_EQ(population.genomes.weights_per_genome(), NetworkShape(params.network).weight_count());
  std::set<std::string> ids;
  for (std::size_t i = 0; i < 30; ++i) {
    const auto& candidate = population.candidates[i];
    ids.insert(candidate.id);
    EXPECT_EQ(candidate.identity.origin, Origin::kInitial);
    EXPECT_EQ(candidate.identity.generation, 1);
    EXPECT_TRUE(candidate.identity.parents.empty());
    auto genome = population.genomes[i];
    EXPECT_TRUE(
        std::all_of(genome.begin(), genome.end(), [](float w) { return std::isfinite(w); }));
    if (i > 0) EXPECT_FALSE(same_bits(genome, population.genomes[i - 1]));
  }
  EXPECT_EQ(ids.size(), 30U);
  EXPECT_EQ(population.candidates[0].id, "1_1");
}

TEST(InitialPopulation, SameSeedSamePopulationWhateverTheThreads) {
  auto params = params_from({{"population_size", 40}});
  auto one = initial_population(params, 9, {.threads = 1});
  EXPECT_TRUE(same_population(one, initial_population(params, 9, {.threads = 4})));
  EXPECT_FALSE(same_population(one, initial_population(params, 10, {.threads = 1})));
}

TEST(NextGeneration, KeepsElitesBitForBit) {
  auto params = params_from({{"population_size", 20}, {"nb_elites", 3}});
  auto evaluated = initial_population(params, 1);
  auto scores =
      scores_by(20, 1, [](std::size_t i) { return double((i * 7) % 20); });  // best: 17, 14, 11
  auto next = next_generation(params, evaluated, scores, 1);
  ASSERT_TRUE(next.ok()) << next.error().message;
  const auto& population = next->population;
  EXPECT_EQ(population.generation, 2);
  ASSERT_EQ(population.candidates.size(), 20U);
  std::size_t expected[] = {17, 14, 11};
  for (std::size_t e = 0; e < 3; ++e) {
    const auto& elite = population.candidates[e];
    EXPECT_TRUE(elite.elite);
    EXPECT_EQ(elite.id, evaluated.candidates[expected[e]].id);
    EXPECT_EQ(elite.identity.generation, 1);
    EXPECT_TRUE(same_bits(population.genomes[e], evaluated.genomes[expected[e]]));
  }
  for (std::size_t i = 3; i < 20; ++i)
    EXPECT_FALSE(population.candidates[i].elite);
}

TEST(NextGeneration, ChildrenRecordParentsAndOperators) {
  // remove_population_pct 0.75 of 20: only the best 5 (scores 19..15) may breed.
  auto params = params_from({{"population_size", 20},
                             {"nb_elites", 2},
                             {"remove_population_pct", 0.75},
                             {"parent_selection", "tournament_distinct"},
                             {"crossover", "one_point"},
                             {"mutation_type", "gaussian_noise_fixed"}});
  auto evaluated = initial_population(params, 2);
  auto next = next_generation(params, evaluated,
                              scores_by(20, 1, [](std::size_t i) { return double(i); }), 2);
  ASSERT_TRUE(next.ok());
  std::set<std::string> allowed;
  for (std::size_t i = 15; i < 20; ++i)
    allowed.insert(evaluated.candidates[i].id);
  std::set<std::string> ids;
  for (std::size_t i = 2; i < 20; ++i) {
    const auto& child = next->population.candidates[i];
    ids.insert(child.id);
    EXPECT_EQ(child.id, "2_" + std::to_string(i + 1));
    EXPECT_EQ(child.identity.generation, 2);
    EXPECT_EQ(child.identity.origin, Origin::kOffspring);
    EXPECT_EQ(child.identity.crossover, (Crossover{.kind = CrossoverKind::kPoints, .points = 1}));
    EXPECT_EQ(child.identity.ancestor_count, 1);
    EXPECT_EQ(child.identity.mutation, MutationType::kGaussianNoiseFixed);
    ASSERT_EQ(child.identity.parents.size(), 2U);
    EXPECT_NE(child.identity.parents[0], child.identity.parents[1]);
    for (const auto& parent : child.identity.parents)
      EXPECT_TRUE(allowed.contains(parent)) << parent;
  }
  EXPECT_EQ(ids.size(), 18U);
}

TEST(NextGeneration, CloneDaddyChildrenAreTheirFirstParentBeforeMutation) {
  auto params = params_from(
      {{"population_size", 12}, {"crossover", "clone_daddy"}, {"mutation_type", "none"}});
  auto evaluated = initial_population(params, 5);
  auto next = next_generation(params, evaluated,
                              scores_by(12, 1, [](std::size_t i) { return double(i); }), 5);
  ASSERT_TRUE(next.ok());
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < 12; ++i)
    index[evaluated.candidates[i].id] = i;
  for (std::size_t i = 2; i < 12; ++i) {
    const auto& child = next->population.candidates[i];
    ASSERT_EQ(child.identity.parents.size(), 1U);
    EXPECT_EQ(child.identity.crossover->kind, CrossoverKind::kCloneDaddy);
    EXPECT_EQ(child.identity.mutation, MutationType::kNone);
    EXPECT_TRUE(same_bits(next->population.genomes[i],
                          evaluated.genomes[index.at(child.identity.parents[0])]));
  }
}

TEST(NextGeneration, ListsOfOperatorsAreDrawnPerChild) {
  auto params =
      params_from({{"population_size", 200},
                   {"crossover", Json::array({"uniform_weight", "clone_daddy", "3_points"})},
                   {"mutation_type", Json::array({"none", "gaussian_noise_fixed"})}});
  auto evaluated = initial_population(params, 6);
  auto next = next_generation(params, evaluated,
                              scores_by(200, 1, [](std::size_t i) { return double(i); }), 6);
  ASSERT_TRUE(next.ok());
  std::map<std::string, int> crossovers;
  std::map<MutationType, int> mutations;
  for (std::size_t i = 2; i < 200; ++i) {
    const auto& identity = next->population.candidates[i].identity;
    ++crossovers[name_of(*identity.crossover)];
    ++mutations[*identity.mutation];
  }
  EXPECT_EQ(crossovers.size(), 3U);
  for (const auto& [name, count] : crossovers)
    EXPECT_GT(count, 40) << name;  // about 66 each
  EXPECT_GT(mutations[MutationType::kNone], 70);
  EXPECT_GT(mutations[MutationType::kGaussianNoiseFixed], 70);
}

TEST(NextGeneration, StandingsSayWhichEvaluatedCandidatesBecameElites) {
  auto params = params_from({{"population_size", 10}, {"nb_elites", 3}});
  auto evaluated = initial_population(params, 8);
  auto next = next_generation(params, evaluated,
                              scores_by(10, 1, [](std::size_t i) { return double(i); }), 8);
  ASSERT_TRUE(next.ok());
  ASSERT_EQ(next->standings.size(), 10U);
  for (std::size_t i = 0; i < 10; ++i)
    EXPECT_EQ(next->standings[i].elite, i >= 7) << i;  // the three best scores
}

TEST(NextGeneration, WithoutCrossoverAChildIsItsParentMutated) {
  auto params = params_from(
      {{"population_size", 10}, {"crossover_rate", 0.0}, {"mutation_probability", 0.05}});
  auto evaluated = initial_population(params, 3);
  auto next = next_generation(params, evaluated,
                              scores_by(10, 1, [](std::size_t i) { return double(i); }), 3);
  ASSERT_TRUE(next.ok());
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < 10; ++i)
    index[evaluated.candidates[i].id] = i;
  for (std::size_t i = 2; i < 10; ++i) {
    const auto& child = next->population.candidates[i];
    ASSERT_EQ(child.identity.parents.size(), 1U);
    EXPECT_FALSE(child.identity.crossover.has_value());
    auto parent = evaluated.genomes[index.at(child.identity.parents[0])];
    auto genome = next->population.genomes[i];
    std::size_t differing = 0;
    for (std::size_t w = 0; w < genome.size(); ++w)
      differing += genome[w] != parent[w];
    EXPECT_LT(differing, genome.size() / 5);
  }
}

TEST(NextGeneration, IsTheSameBitForBitWhateverTheThreads) {
  auto params = params_from(
      {{"population_size", 64},
       {"nb_elites", 4},
       {"fitness", {{{"metric_name", "reward"}}, {{"metric_name", "cost"}, {"maximize", false}}}}});
  auto evaluated = initial_population(params, 77);
  Scores scores(64, 2);
  for (std::size_t i = 0; i < 64; ++i) {
    scores.at(i, 0) = std::sin(double(i));
    scores.at(i, 1) = std::cos(double(i) * 0.7);
  }
  auto reference = next_generation(params, evaluated, scores, 77, {.threads = 1});
  ASSERT_TRUE(reference.ok());
  for (unsigned threads : {2U, 3U, 8U}) {
    auto other = next_generation(params, evaluated, scores, 77, {.threads = threads});
    ASSERT_TRUE(other.ok());
    EXPECT_TRUE(same_population(reference->population, other->population)) << threads << " threads";
  }
  auto reseeded = next_generation(params, evaluated, scores, 78);
  EXPECT_FALSE(same_population(reference->population, reseeded->population));
}

// A population of hundreds of megabytes is bred from its best candidates' genomes alone.
Genomes only_genomes_read(const ExperimentParams& params, const Population& evaluated,
                          const Ranking& ranking) {
  const std::size_t read = genomes_read(params, ranking);
  std::vector<std::uint32_t> held(ranking.order.begin(), ranking.order.begin() + read);
  Genomes genomes(evaluated.genomes.size(), evaluated.genomes.weights_per_genome(), held);
  for (std::uint32_t i : held)
    std::ranges::copy(evaluated.genomes[i], genomes[i].begin());
  return genomes;
}

TEST(NextGeneration, BreedsTheSameFromTheGenomesItReadsAlone) {
  for (const Json& evolution :
       {Json{{"population_size", 50}, {"nb_elites", 3}, {"remove_population_pct", 0.8}},
        Json{{"population_size", 50}, {"nb_elites", 20}, {"remove_population_pct", 0.9}},
        Json{{"population_size", 12}, {"algorithm", "cma_es"}}}) {
    auto params = params_from(evolution);
    auto evaluated = initial_population(params, 5);
    const std::size_t n = evaluated.candidates.size();
    auto scores = scores_by(n, 1, [](std::size_t i) { return std::sin(double(i)); });
    scores.at(n - 1, 0) = kNaN;  // incomplete candidates are never read
    const Ranking ranking = rank_candidates(scores, params.evolution.fitness);
    const std::size_t read = genomes_read(params, ranking);
    EXPECT_LT(read, n) << evolution;
    if (params.evolution.algorithm == Algorithm::kGa) {
      EXPECT_EQ(read, std::max<std::size_t>(
                          params.evolution.nb_elites,
                          n - std::size_t(std::floor(n * params.evolution.remove_population_pct))))
          << evolution;
    }
    auto whole = next_generation(params, evaluated, scores, 5, {.threads = 2});
    ASSERT_TRUE(whole.ok());
    const Genomes held = only_genomes_read(params, evaluated, ranking);
    auto partial = next_generation(
        params,
        Evaluated{.population = evaluated, .genomes = held, .scores = scores, .ranking = ranking},
        5, {.threads = 2});
    ASSERT_TRUE(partial.ok()) << partial.error().message;
    EXPECT_TRUE(same_population(whole->population, partial->population)) << evolution;

    // One genome short is a mistake of the caller's, never a read of memory not held.
    std::vector<std::uint32_t> fewer(ranking.order.begin() + 1, ranking.order.begin() + read);
    const Genomes short_one(n, evaluated.genomes.weights_per_genome(), fewer);
    auto refused = next_generation(
        params,
        Evaluated{
            .population = evaluated, .genomes = short_one, .scores = scores, .ranking = ranking},
        5);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, Code::kInternal);
  }
}

TEST(NextGeneration, ElitesOfSeveralObjectivesComeFromTheFirstFront) {
  auto params = params_from(
      {{"population_size", 10},
       {"nb_elites", 3},
       {"fitness", {{{"metric_name", "reward"}}, {{"metric_name", "cost"}, {"maximize", false}}}}});
  auto evaluated = initial_population(params, 5);
  Scores scores(10, 2);
  for (std::size_t i = 0; i < 10; ++i) {
    scores.at(i, 0) = double(i % 5);  // candidates 3 and 4 and 8, 9 are good on reward...
    scores.at(i, 1) =
        i < 5 ? 0.0 : 10.0;  // ...but 5-9 are costly, so front 0 is {4}, front 1 {3, 9}...
  }
  auto next = next_generation(params, evaluated, scores, 5);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->population.candidates[0].id, evaluated.candidates[4].id);
  EXPECT_EQ(next->evaluated.first_front_size, 1U);
  std::set<std::string> elites{next->population.candidates[1].id,
                               next->population.candidates[2].id};
  EXPECT_EQ(elites,
            (std::set<std::string>{evaluated.candidates[3].id, evaluated.candidates[9].id}));
}

TEST(NextGeneration, CandidatesWithoutMetricsRankLastWithAWarning) {
  auto params =
      params_from({{"population_size", 10}, {"nb_elites", 2}, {"remove_population_pct", 0.5}});
  auto evaluated = initial_population(params, 4);
  auto scores = scores_by(10, 1, [](std::size_t i) { return double(i); });
  scores.at(9, 0) = kNaN;                                     // the best would have been 9
  scores.at(8, 0) = std::numeric_limits<double>::infinity();  // and then 8
  auto next = next_generation(params, evaluated, scores, 4);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->population.candidates[0].id, evaluated.candidates[7].id);
  EXPECT_EQ(next->population.candidates[1].id, evaluated.candidates[6].id);
  ASSERT_EQ(next->warnings.size(), 2U);
  EXPECT_NE(next->warnings[0].find(evaluated.candidates[8].id), std::string::npos);
  EXPECT_EQ(next->evaluated.incomplete, 2U);
  for (const auto& candidate : next->population.candidates) {
    for (const auto& parent : candidate.identity.parents) {
      EXPECT_NE(parent, evaluated.candidates[9].id);
      EXPECT_NE(parent, evaluated.candidates[8].id);
    }
  }
}

TEST(NextGeneration, StillBreedsWhenNoCandidateHasMetrics) {
  auto params = params_from({{"population_size", 6}});
  auto evaluated = initial_population(params, 6);
  auto next = next_generation(params, evaluated, Scores(6, 1), 6);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->population.candidates.size(), 6U);
  EXPECT_FALSE(next->population.candidates[0].elite);
  EXPECT_EQ(next->warnings.size(), 6U);
}

TEST(NextGeneration, RejectsPopulationsThatDoNotFitTheParameters) {
  auto params = params_from({{"population_size", 6}});
  auto evaluated = initial_population(params, 6);
  auto wrong_scores = next_generation(params, evaluated, Scores(5, 1), 6);
  ASSERT_FALSE(wrong_scores.ok());
  EXPECT_EQ(wrong_scores.error().code, Code::kInvalidArgument);
  Population wrong_weights{
      .generation = 1, .candidates = evaluated.candidates, .genomes = Genomes(6, 3)};
  auto result = next_generation(params, wrong_weights, Scores(6, 1), 6);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message, "candidates have 3 weights but the network needs 114");
  EXPECT_FALSE(next_generation(params, Population{}, Scores(0, 1), 6).ok());
}

TEST(NextGeneration, AGrowingPopulationSizeIsHonoured) {
  auto small = params_from({{"population_size", 5}});
  auto evaluated = initial_population(small, 8);
  auto large = params_from({{"population_size", 12}, {"nb_elites", 7}});
  auto next = next_generation(large, evaluated,
                              scores_by(5, 1, [](std::size_t i) { return double(i); }), 8);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->population.candidates.size(), 12U);
  EXPECT_EQ(std::count_if(next->population.candidates.begin(), next->population.candidates.end(),
                          [](const Candidate& c) { return c.elite; }),
            5);
}

// Random valid parameters never crash and always give population_size finite candidates.
Json random_parameters(std::mt19937_64& random) {
  auto pick = [&](std::initializer_list<const char*> names) {
    return *(names.begin() + random() % names.size());
  };
  auto uniform = [&](double low, double high) {
    return std::uniform_real_distribution<double>(low, high)(random);
  };
  Json inputs = Json::array();
  for (std::size_t i = 0, n = 1 + random() % 3; i < n; ++i) {
    inputs.push_back({{"name", "in" + std::to_string(i)}, {"size", 1 + random() % 6}});
  }
  Json hidden = Json::array();
  for (std::size_t i = 0, n = random() % 4; i < n; ++i) {
    hidden.push_back({{"layer_params",
                       {{"units", 1 + random() % 9},
                        {"activation", pick({"linear", "relu", "tanh", "sigmoid", "softmax"})},
                        {"use_bias", random() % 2 == 0}}}});
  }
  Json outputs = Json::array();
  for (std::size_t i = 0, n = 1 + random() % 2; i < n; ++i) {
    outputs.push_back({{"name", "out" + std::to_string(i)},
                       {"size", 1 + random() % 4},
                       {"activation", pick({"linear", "softmax", "sigmoid"})},
                       {"use_bias", random() % 2 == 0}});
  }
  int population = 2 + int(random() % 60);
  Json fitness = Json::array();
  for (std::size_t i = 0, n = 1 + random() % 3; i < n; ++i) {
    fitness.push_back({{"metric_name", "m" + std::to_string(i)}, {"maximize", random() % 2 == 0}});
  }
  return {
      {"network", {{"inputs", inputs}, {"hidden_layers", hidden}, {"outputs", outputs}}},
      {"evolution",
       {{"population_size", population},
        {"nb_elites", int(random() % population)},
        {"parent_selection", pick({"tournament", "proportion", "random"})},
        {"remove_population_pct", uniform(0, 0.999)},
        {"mutation_type",
         pick({"gaussian_noise_percentage", "gaussian_noise_fixed", "uniform_reset"})},
        {"mutation_probability", uniform(0, 1)},
        {"mutation_factor", uniform(0, 3)},
        {"crossover", pick({"uniform", "one_point"})},
        {"crossover_rate", uniform(0, 1)},
        {"initialization_distribution", pick({"orthogonal", "uniform", "normal", "xavier", "he"})},
        {"initialization_range", uniform(0.001, 5)},
        {"fitness", fitness}}}};
}

TEST(NextGeneration, RandomValidParametersAlwaysGiveFullFinitePopulations) {
  std::mt19937_64 random(2026);
  for (int round = 0; round < 150; ++round) {
    Json document = random_parameters(random);
    auto params = parse_params(document.dump());
    ASSERT_TRUE(params.ok()) << params.error().message << "\n" << document.dump();
    const auto size = std::size_t(params->evolution.population_size);
    const auto weights = NetworkShape(params->network).weight_count();
    auto population = initial_population(*params, random(), {.threads = 2});
    for (int generation = 0; generation < 3; ++generation) {
      Scores scores(population.candidates.size(), params->evolution.fitness.size());
      for (std::size_t i = 0; i < scores.candidates(); ++i) {
        for (std::size_t j = 0; j < scores.objectives(); ++j) {
          auto roll = random() % 20;
          scores.at(i, j) = roll == 0   ? kNaN
                            : roll == 1 ? -std::numeric_limits<double>::infinity()
                                        : double(random() % 7) - 3.0;
        }
      }
      auto next = next_generation(*params, population, scores, random(), {.threads = 2});
      ASSERT_TRUE(next.ok()) << next.error().message;
      population = std::move(next->population);
      ASSERT_EQ(population.candidates.size(), size) << document.dump();
      ASSERT_EQ(population.genomes.weights_per_genome(), weights);
      for (std::size_t i = 0; i < size; ++i) {
        auto genome = population.genomes[i];
        ASSERT_TRUE(std::all_of(genome.begin(), genome.end(), [](float w) {
          return std::isfinite(w);
        })) << document.dump();
      }
    }
  }
}

}  // namespace
}  // namespace esp::evolution
