#include "evolution/selection.h"

#include <gtest/gtest.h>

#include <cmath>

namespace esp::evolution {
namespace {

constexpr std::size_t kDraws = 200'000;

ParentPool pool_of(std::size_t size, std::vector<double> weights = {}) {
  ParentPool pool;
  for (std::size_t i = 0; i < size; ++i)
    pool.candidates.push_back(std::uint32_t(100 + i));
  pool.weights = std::move(weights);
  return pool;
}

std::vector<double> first_parent_shares(ParentSelection method, const ParentPool& pool) {
  RandomStream random(21);
  auto pairs = select_parents(method, pool, kDraws, random);
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

TEST(SelectParents, ProportionFollowsTheWeights) {
  auto shares = first_parent_shares(ParentSelection::kProportion, pool_of(4, {1, 2, 3, 4}));
  for (std::size_t i = 0; i < 4; ++i)
    expect_share(shares[i], double(i + 1) / 10);
}

TEST(SelectParents, ProportionWithAllWeightsZeroFallsBackToUniform) {
  for (double share : first_parent_shares(ParentSelection::kProportion, pool_of(4, {0, 0, 0, 0}))) {
    expect_share(share, 0.25);
  }
}

TEST(SelectParents, TheTwoParentsDifferWheneverThePoolAllows) {
  RandomStream random(1);
  for (auto method : {ParentSelection::kTournament, ParentSelection::kRandom}) {
    for (const auto& pair : select_parents(method, pool_of(2), 10'000, random)) {
      ASSERT_NE(pair.first, pair.second);
    }
  }
  for (const auto& pair : select_parents(ParentSelection::kTournament, pool_of(1), 10, random)) {
    EXPECT_EQ(pair.first, 100U);
    EXPECT_EQ(pair.second, 100U);
  }
}

TEST(SelectParents, RejectsAnEmptyPool) {
  RandomStream random(1);
  EXPECT_THROW(select_parents(ParentSelection::kRandom, ParentPool{}, 1, random),
               std::invalid_argument);
}

}  // namespace
}  // namespace esp::evolution
