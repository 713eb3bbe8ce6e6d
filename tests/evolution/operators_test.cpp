#include "evolution/operators.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <set>
#include <vector>

namespace esp::evolution {
namespace {

constexpr std::size_t kMillion = 1'000'000;

std::vector<float> ones(std::size_t n) {
  return std::vector<float>(n, 1.0F);
}

struct Changes {
  std::size_t count = 0;
  double mean = 0;
  double stddev = 0;
};

// Statistics of (after - before) over the weights that changed.
Changes changes(const std::vector<float>& before, const std::vector<float>& after) {
  Changes c;
  double sum = 0;
  double squares = 0;
  for (std::size_t i = 0; i < before.size(); ++i) {
    if (after[i] == before[i]) continue;
    double delta = after[i] - before[i];
    ++c.count;
    sum += delta;
    squares += delta * delta;
  }
  if (c.count > 0) {
    c.mean = sum / double(c.count);
    c.stddev = std::sqrt(squares / double(c.count) - c.mean * c.mean);
  }
  return c;
}

// Binomial: the share of mutated weights is within 5 standard deviations of p.
void expect_rate(std::size_t mutated, std::size_t n, double p) {
  double sigma = std::sqrt(double(n) * p * (1 - p));
  EXPECT_NEAR(double(mutated), double(n) * p, 5 * sigma) << "p=" << p;
}

TEST(Mutation, MutatesTheConfiguredShareOfAMillionWeights) {
  for (double p : {0.01, 0.1, 0.5, 0.9}) {
    auto before = ones(kMillion);
    auto after = before;
    RandomStream random(11);
    OperatorScratch scratch;
    Mutation({.type = MutationType::kGaussianNoiseFixed, .probability = float(p), .factor = 0.1F})
        .apply(after, random, scratch);
    expect_rate(changes(before, after).count, kMillion, p);
  }
}

TEST(Mutation, MutatedPositionsAreSpreadEvenly) {
  // Chi-square over 100 buckets of 10^4 weights: a skipping bug would bunch mutations.
  auto genome = std::vector<float>(kMillion, 1.0F);
  RandomStream random(3);
  OperatorScratch scratch;
  Mutation({.type = MutationType::kGaussianNoiseFixed, .probability = 0.05F, .factor = 1.0F})
      .apply(genome, random, scratch);
  std::vector<double> buckets(100, 0);
  for (std::size_t i = 0; i < genome.size(); ++i)
    buckets[i / 10000] += genome[i] != 1.0F;
  double expected = 500;
  double chi2 = 0;
  for (double b : buckets)
    chi2 += (b - expected) * (b - expected) / expected;
  EXPECT_LT(chi2, 160.0);  // 99 degrees of freedom: p < 1e-4 above 160
  EXPECT_NE(genome.front() + genome.back(), 0.0F);
}

TEST(Mutation, FixedNoiseHasTheFactorAsStandardDeviation) {
  auto before = ones(kMillion);
  auto after = before;
  RandomStream random(5);
  OperatorScratch scratch;
  Mutation({.type = MutationType::kGaussianNoiseFixed, .probability = 0.2F, .factor = 0.3F})
      .apply(after, random, scratch);
  auto c = changes(before, after);
  EXPECT_NEAR(c.mean, 0.0, 0.003);
  EXPECT_NEAR(c.stddev, 0.3, 0.003);
}

TEST(Mutation, PercentageNoiseScalesWithTheWeight) {
  std::vector<float> before(kMillion);
  for (std::size_t i = 0; i < before.size(); ++i)
    before[i] = i % 2 == 0 ? 10.0F : -0.5F;
  auto after = before;
  RandomStream random(9);
  OperatorScratch scratch;
  Mutation({.type = MutationType::kGaussianNoisePercentage, .probability = 0.2F, .factor = 0.1F})
      .apply(after, random, scratch);
  double large = 0;
  double small = 0;
  std::size_t n_large = 0;
  std::size_t n_small = 0;
  for (std::size_t i = 0; i < before.size(); ++i) {
    double relative = (after[i] - before[i]) / before[i];
    if (after[i] == before[i]) continue;
    (i % 2 == 0 ? large : small) += relative * relative;
    ++(i % 2 == 0 ? n_large : n_small);
  }
  EXPECT_NEAR(std::sqrt(large / double(n_large)), 0.1, 0.002);
  EXPECT_NEAR(std::sqrt(small / double(n_small)), 0.1, 0.002);
}

TEST(Mutation, UniformResetDrawsFromTheInitializationRange) {
  auto genome = std::vector<float>(kMillion, 100.0F);
  RandomStream random(13);
  OperatorScratch scratch;
  Mutation({.type = MutationType::kUniformReset, .probability = 0.3F, .reset_range = 2.0F})
      .apply(genome, random, scratch);
  std::size_t reset = 0;
  double sum = 0;
  for (float w : genome) {
    if (w == 100.0F) continue;
    ++reset;
    sum += w;
    ASSERT_GE(w, -2.0F);
    ASSERT_LT(w, 2.0F);
  }
  expect_rate(reset, kMillion, 0.3);
  EXPECT_NEAR(sum / double(reset), 0.0, 0.02);
}

TEST(Mutation, ProbabilityZeroChangesNothingAndOneChangesEverything) {
  auto genome = ones(1000);
  RandomStream random(1);
  OperatorScratch scratch;
  Mutation({.type = MutationType::kGaussianNoiseFixed, .probability = 0.0F, .factor = 1.0F})
      .apply(genome, random, scratch);
  EXPECT_EQ(genome, ones(1000));
  Mutation({.type = MutationType::kGaussianNoiseFixed, .probability = 1.0F, .factor = 1.0F})
      .apply(genome, random, scratch);
  EXPECT_EQ(changes(ones(1000), genome).count, 1000U);
}

TEST(Mutation, ResultsAreFinite) {
  std::vector<float> genome(kMillion, 3.0F);
  RandomStream random(2);
  OperatorScratch scratch;
  Mutation({.type = MutationType::kGaussianNoisePercentage, .probability = 1.0F, .factor = 5.0F})
      .apply(genome, random, scratch);
  EXPECT_TRUE(std::all_of(genome.begin(), genome.end(), [](float w) { return std::isfinite(w); }));
}

TEST(UniformCrossover, TakesEachWeightFromEitherParentEvenly) {
  constexpr std::size_t n = kMillion + 17;  // not a multiple of the 32-weight block
  std::vector<float> first(n, 1.0F);
  std::vector<float> second(n, 2.0F);
  std::vector<float> child(n, 0.0F);
  RandomStream random(4);
  OperatorScratch scratch;
  uniform_crossover(first, second, child, random, scratch);
  std::size_t from_first = 0;
  for (float w : child) {
    ASSERT_TRUE(w == 1.0F || w == 2.0F);
    from_first += w == 1.0F;
  }
  expect_rate(from_first, n, 0.5);
  // Neighbouring weights are independent: runs of equal origin have mean length 2.
  std::size_t runs = 1;
  for (std::size_t i = 1; i < n; ++i)
    runs += child[i] != child[i - 1];
  EXPECT_NEAR(double(n) / double(runs), 2.0, 0.01);
}

TEST(UniformLayerCrossover, EachLayerComesWholeFromOneParent) {
  NetworkShape shape({{.inputs = 10, .outputs = 10, .use_bias = true},
                      {.inputs = 10, .outputs = 3, .use_bias = true}},
                     1);
  std::vector<float> first(shape.weight_count(), 1.0F);
  std::vector<float> second(shape.weight_count(), 2.0F);
  std::set<std::vector<float>> mixes;
  for (std::uint64_t seed = 0; seed < 64; ++seed) {
    std::vector<float> child(shape.weight_count(), 0.0F);
    RandomStream random(seed);
    uniform_layer_crossover(shape, first, second, child, random);
    std::vector<float> mix;
    for (const auto& layer : shape.layers()) {
      std::span<const float> part(child.data() + layer.offset, layer.weight_count());
      EXPECT_TRUE(std::all_of(part.begin(), part.end(), [&](float w) { return w == part[0]; }));
      mix.push_back(part[0]);
    }
    mixes.insert(mix);
  }
  EXPECT_EQ(mixes.size(), 4U);  // every combination of two layers from two parents occurs
}

TEST(PointsCrossover, SwitchesParentExactlyKTimesStartingWithTheFirst) {
  std::vector<float> first(100, 1.0F);
  std::vector<float> second(100, 2.0F);
  for (std::size_t k : {1U, 3U, 7U}) {
    std::set<std::size_t> first_cuts;
    for (std::uint64_t seed = 0; seed < 200; ++seed) {
      std::vector<float> child(100, 0.0F);
      RandomStream random(seed);
      points_crossover(k, first, second, child, random);
      EXPECT_EQ(child.front(), 1.0F);
      std::size_t switches = 0;
      std::size_t first_cut = 0;
      for (std::size_t i = 1; i < child.size(); ++i) {
        if (child[i] != child[i - 1] && switches++ == 0) first_cut = i;
      }
      EXPECT_EQ(switches, k);
      first_cuts.insert(first_cut);
    }
    EXPECT_GT(first_cuts.size(), 10U) << "cuts are drawn, not fixed";
  }
  // More points than places: every place is cut once.
  std::vector<float> child(5, 0.0F);
  RandomStream random(1);
  points_crossover(10, std::span(first).first(5), std::span(second).first(5), child, random);
  EXPECT_EQ(child, (std::vector<float>{1, 2, 1, 2, 1}));
}

TEST(Mutation, NoneLeavesTheGenomeAsItIs) {
  std::vector<float> genome(1000, 0.5F);
  RandomStream random(4);
  OperatorScratch scratch;
  Mutation(MutationSettings{.type = MutationType::kNone, .probability = 1.0F})
      .apply(genome, random, scratch);
  EXPECT_TRUE(std::all_of(genome.begin(), genome.end(), [](float w) { return w == 0.5F; }));
}

}  // namespace
}  // namespace esp::evolution
