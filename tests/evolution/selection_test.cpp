#include "evolution/selection.h"

#include <gtest/gtest.h>

#include <cmath>

namespace esp::evolution {
namespace {

constexpr std::size_t kDraws = 200'000;

ParentPool pool_of(std::size_t size, std::vector<double> fitness = {}) {
  ParentPool pool;
  for (std::size_t i = 0; i < size; ++i)
    pool.candidates.push_back(std::uint32_t(100 + i));
  pool.fitness = std::move(fitness);
  return pool;
}

std::vector<double> first_parent_shares(ParentSelection method, const ParentPool& pool) {
  RandomStream random(21);
  auto pairs = select_parents({.method = method}, pool, kDraws, random);
  std::vector<double> shares(pool.candidates.size(), 0.0);
  for (const auto& pair : pairs)
    shares[pair.first - 100] += 1.0 / kDraws;
  return shares;
}

// Within 5 standard deviations of a binomial share.
void expect_share(double share, double p) {
  EXPECT_NEAR(share, p, 5 * std::sqrt(p * (1 - p) / kDraws));
}

TEST(SelectParents, TournamentFavoursBetterRankedCandidates) {
  constexpr double k = 10;
  auto shares = first_parent_shares(ParentSelection::kTournament, pool_of(10));
  for (std::size_t position = 0; position < 10; ++position) {
    // The better of two uniform draws lands on `position` with this chance.
    double above = k - double(position);
    expect_share(shares[position], (above * above - (above - 1) * (above - 1)) / (k * k));
  }
}

TEST(SelectParents, RandomIsUniform) {
  for (double share : first_parent_shares(ParentSelection::kRandom, pool_of(8))) {
    expect_share(share, 1.0 / 8);
  }
}

TEST(SelectParents, ProportionFollowsFitnessShiftedSoTheWorstKeepsAShare) {
  // Fitness 1..4 shifted by the worst (1) less a quarter of the range: 0.75, 1.75, 2.75, 3.75.
  auto shares = first_parent_shares(ParentSelection::kProportion, pool_of(4, {1, 2, 3, 4}));
  for (std::size_t i = 0; i < 4; ++i)
    expect_share(shares[i], (double(i) + 0.75) / 9);
}

TEST(SelectParents, ProportionWithEqualFitnessIsUniform) {
  for (double share : first_parent_shares(ParentSelection::kProportion, pool_of(4, {0, 0, 0, 0}))) {
    expect_share(share, 0.25);
  }
}

TEST(SelectParents, RankingFollowsRankNotFitness) {
  auto shares = first_parent_shares(ParentSelection::kRanking, pool_of(4));
  for (std::size_t i = 0; i < 4; ++i)
    expect_share(shares[i], double(4 - i) / 10);
}

TEST(SelectParents, SigmaScalingWeighsDistanceFromTheMeanInStandardDeviations) {
  // Mean 2.5, sd sqrt(18.75); factor 2: weights 1 + (f - 2.5) / (2 sd).
  const std::vector<double> fitness{10, 0, 0, 0};
  auto shares = first_parent_shares(ParentSelection::kSigmaScaling, pool_of(4, fitness));
  const double sd = std::sqrt(18.75);
  std::vector<double> weights;
  for (double f : fitness)
    weights.push_back(1 + (f - 2.5) / (2 * sd));
  const double total = weights[0] + weights[1] + weights[2] + weights[3];
  for (std::size_t i = 0; i < 4; ++i)
    expect_share(shares[i], weights[i] / total);
}

TEST(SelectParents, BestPairsTheTwoBestForEveryChild) {
  RandomStream random(3);
  for (const auto& pair :
       select_parents({.method = ParentSelection::kBest}, pool_of(5), 50, random)) {
    EXPECT_EQ(pair.first, 100U);
    EXPECT_EQ(pair.second, 101U);
  }
}

TEST(SelectParents, TournamentDistinctNeverPairsACandidateWithItself) {
  RandomStream random(1);
  for (std::size_t size : {2U, 3U, 4U, 10U}) {
    for (const auto& pair : select_parents({.method = ParentSelection::kTournamentDistinct},
                                           pool_of(size), 10'000, random)) {
      ASSERT_NE(pair.first, pair.second) << size;
    }
  }
  // Still a tournament: the best of ten wins more often than its 1/10.
  auto shares = first_parent_shares(ParentSelection::kTournamentDistinct, pool_of(10));
  EXPECT_GT(shares[0], 0.15);
}

TEST(SelectParents, TournamentDrawsWithReplacementSoTheParentsMayBeTheSame) {
  RandomStream random(1);
  std::size_t same = 0;
  const auto pairs =
      select_parents({.method = ParentSelection::kTournament}, pool_of(2), 10'000, random);
  for (const auto& pair : pairs)
    same += pair.first == pair.second ? 1 : 0;
  // Each tournament picks position 0 with chance 3/4: the same parent 3/4^2 + 1/4^2 = 5/8.
  EXPECT_NEAR(double(same) / 10'000, 0.625, 0.03);  // 6 standard deviations
}

TEST(SelectParents, OtherMethodsDrawTheSecondParentAgainWhenItEqualsTheFirst) {
  RandomStream random(1);
  for (auto method : {ParentSelection::kRandom, ParentSelection::kRanking}) {
    for (const auto& pair : select_parents({.method = method}, pool_of(2), 10'000, random)) {
      ASSERT_NE(pair.first, pair.second);
    }
  }
  for (const auto& pair :
       select_parents({.method = ParentSelection::kRandom}, pool_of(1), 10, random)) {
    EXPECT_EQ(pair.first, 100U);
    EXPECT_EQ(pair.second, 100U);
  }
}

TEST(SelectParents, RejectsAnEmptyPool) {
  RandomStream random(1);
  EXPECT_THROW(select_parents({.method = ParentSelection::kRandom}, ParentPool{}, 1, random),
               std::invalid_argument);
}

}  // namespace
}  // namespace esp::evolution
