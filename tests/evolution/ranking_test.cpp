#include "evolution/ranking.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

namespace esp::evolution {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Reference: repeatedly peel off the points no remaining point dominates. O(M N^3), obviously
// right.
std::vector<std::uint32_t> peel_fronts(const std::vector<double>& values, std::size_t m) {
  const std::size_t n = values.size() / m;
  auto dominates = [&](std::size_t a, std::size_t b) {
    bool strictly = false;
    for (std::size_t j = 0; j < m; ++j) {
      if (values[a * m + j] > values[b * m + j]) return false;
      strictly |= values[a * m + j] < values[b * m + j];
    }
    return strictly;
  };
  std::vector<std::uint32_t> front(n, 0);
  std::vector<bool> done(n, false);
  for (std::uint32_t level = 0, left = std::uint32_t(n); left > 0; ++level) {
    std::vector<std::size_t> current;
    for (std::size_t p = 0; p < n; ++p) {
      if (done[p]) continue;
      bool dominated = false;
      for (std::size_t q = 0; q < n && !dominated; ++q)
        dominated = !done[q] && dominates(q, p);
      if (!dominated) current.push_back(p);
    }
    for (auto p : current) {
      front[p] = level;
      done[p] = true;
      --left;
    }
  }
  return front;
}

TEST(NondominatedFronts, TwoObjectivesByHand) {
  std::vector<double> points = {1, 5, 2, 3, 3, 1, 2, 4, 4, 4, 3, 1, 5, 5};
  EXPECT_EQ(nondominated_fronts(points, 2), (std::vector<std::uint32_t>{0, 0, 0, 1, 2, 0, 3}));
}

TEST(NondominatedFronts, ThreeObjectivesByHand) {
  std::vector<double> points = {1, 1, 1, 0, 2, 2, 2, 2, 2, 1, 1, 1, 3, 3, 0, 3, 3, 3};
  EXPECT_EQ(nondominated_fronts(points, 3), (std::vector<std::uint32_t>{0, 0, 1, 0, 0, 2}));
}

TEST(NondominatedFronts, OneObjectiveIsTheDenseRankOfValues) {
  std::vector<double> points = {3, 1, 2, 1, 5};
  EXPECT_EQ(nondominated_fronts(points, 1), (std::vector<std::uint32_t>{2, 0, 1, 0, 3}));
}

TEST(NondominatedFronts, MatchesPeelingOnRandomPointsWithTies) {
  std::mt19937_64 random(1);
  for (std::size_t m : {2, 3, 4, 5}) {
    for (int round = 0; round < 20; ++round) {
      std::size_t n = 1 + random() % 300;
      int spread = round % 2 == 0 ? 5 : 1000;  // few distinct values: many ties and duplicates
      std::vector<double> values(n * m);
      for (double& v : values)
        v = double(random() % spread);
      ASSERT_EQ(nondominated_fronts(values, m), peel_fronts(values, m)) << "m=" << m << " n=" << n;
    }
  }
}

TEST(NondominatedFronts, PointsOnAPlaneAreAllInTheFirstFront) {
  // x + y + z = 1: nobody dominates anybody, the worst case for per-front bookkeeping.
  std::mt19937_64 random(5);
  std::uniform_real_distribution<double> uniform(0, 1);
  for (std::size_t m : {2, 3, 4}) {
    std::vector<double> values;
    for (int i = 0; i < 3000; ++i) {
      std::vector<double> row(m);
      double sum = 0;
      for (double& v : row)
        sum += (v = uniform(random));
      for (double v : row)
        values.push_back(v / sum);
    }
    auto fronts = nondominated_fronts(values, m);
    EXPECT_EQ(std::count(fronts.begin(), fronts.end(), 0U), 3000) << "m=" << m;
  }
}

TEST(NondominatedFronts, ChainsGiveOneFrontPerPoint) {
  std::vector<double> values;
  for (int i = 0; i < 500; ++i)
    values.insert(values.end(), {double(499 - i), double(499 - i), double(499 - i)});
  auto fronts = nondominated_fronts(values, 3);
  for (std::uint32_t i = 0; i < 500; ++i)
    ASSERT_EQ(fronts[i], 499 - i);
}

TEST(NondominatedFronts, HandlesTheEmptySetAndRejectsRaggedRows) {
  EXPECT_TRUE(nondominated_fronts({}, 2).empty());
  std::vector<double> ragged = {1, 2, 3};
  EXPECT_THROW(nondominated_fronts(ragged, 2), std::invalid_argument);
}

TEST(CrowdingDistance, ByHand) {
  std::vector<double> points = {1, 5, 2, 3, 3, 1, 2, 4, 4, 4, 3, 1, 5, 5};
  auto fronts = nondominated_fronts(points, 2);
  auto distance = crowding_distances(points, 2, fronts);
  // Front 0 is {0, 1, 2, 5}: f1 spans 2, f2 spans 4. Point 1 sits between 0 and 2 on f1
  // ((3-1)/2) and between 5 and 0 on f2 ((5-1)/4). The others are boundaries.
  EXPECT_EQ(distance[0], kInf);
  EXPECT_DOUBLE_EQ(distance[1], 2.0);
  EXPECT_EQ(distance[2], kInf);
  EXPECT_EQ(distance[5], kInf);
  EXPECT_EQ(distance[3], kInf);  // alone in its front
}

TEST(CrowdingDistance, InteriorPointsOfALine) {
  // Five points on one front, evenly spaced: interior distances are 2 * (1/4) each... of two
  // objectives, so (2/4) + (2/4) = 1.
  std::vector<double> points = {0, 4, 1, 3, 2, 2, 3, 1, 4, 0};
  auto distance = crowding_distances(points, 2, nondominated_fronts(points, 2));
  EXPECT_EQ(distance[0], kInf);
  EXPECT_DOUBLE_EQ(distance[1], 1.0);
  EXPECT_DOUBLE_EQ(distance[2], 1.0);
  EXPECT_DOUBLE_EQ(distance[3], 1.0);
  EXPECT_EQ(distance[4], kInf);
}

TEST(RankCandidates, SingleObjectiveSortsByValueHonouringMaximize) {
  Scores scores(4, 1);
  scores.at(0, 0) = 0.5;
  scores.at(1, 0) = 2.0;
  scores.at(2, 0) = -1.0;
  scores.at(3, 0) = 2.0;
  auto best_first = rank_candidates(scores, std::vector<Objective>{{"score", true}}).order;
  EXPECT_EQ(best_first, (std::vector<std::uint32_t>{1, 3, 0, 2}));
  auto lowest_first = rank_candidates(scores, std::vector<Objective>{{"loss", false}}).order;
  EXPECT_EQ(lowest_first, (std::vector<std::uint32_t>{2, 0, 1, 3}));
}

TEST(RankCandidates, SeveralObjectivesOrderByFrontThenCrowding) {
  // reward maximised, cost minimised.
  std::vector<std::pair<double, double>> rows = {{5, 1}, {3, 3}, {4, 2}, {1, 1}, {1, 5}, {5, 5}};
  Scores scores(rows.size(), 2);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    scores.at(i, 0) = rows[i].first;
    scores.at(i, 1) = rows[i].second;
  }
  auto ranking = rank_candidates(scores, std::vector<Objective>{{"reward", true}, {"cost", false}});
  // (5,1) dominates everything; (4,2), (1,1) and (5,5) trade off; (3,3) loses to (4,2) and
  // (1,5) to (3,3).
  EXPECT_EQ(ranking.front, (std::vector<std::uint32_t>{0, 2, 1, 1, 3, 1}));
  EXPECT_EQ(ranking.order.front(), 0U);
  EXPECT_TRUE(ranking.incomplete.empty());
}

TEST(Scores, PicksMetricsByNameInFitnessOrder) {
  std::vector<MetricValues> metrics = {{{"cost", 2.0}, {"reward", 5.0}, {"extra", 9.0}},
                                       {{"reward", 1.0}}};
  std::vector<Objective> fitness = {{"reward", true}, {"cost", false}};
  auto scores = Scores::from(metrics, fitness);
  ASSERT_EQ(scores.candidates(), 2U);
  ASSERT_EQ(scores.objectives(), 2U);
  EXPECT_EQ(scores.at(0, 0), 5.0);
  EXPECT_EQ(scores.at(0, 1), 2.0);
  EXPECT_EQ(scores.at(1, 0), 1.0);
  EXPECT_TRUE(std::isnan(scores.at(1, 1)));
  EXPECT_TRUE(scores.complete(0));
  EXPECT_FALSE(scores.complete(1));
}

TEST(RankCandidates, IncompleteCandidatesRankLast) {
  Scores scores(5, 2);
  double rows[5][2] = {{1, 1}, {kNaN, 0}, {2, 2}, {0, kInf}, {3, 0}};
  for (std::size_t i = 0; i < 5; ++i) {
    scores.at(i, 0) = rows[i][0];
    scores.at(i, 1) = rows[i][1];
  }
  auto ranking = rank_candidates(scores, std::vector<Objective>{{"a", true}, {"b", true}});
  EXPECT_EQ(ranking.incomplete, (std::vector<std::uint32_t>{1, 3}));
  EXPECT_EQ(ranking.front[1], ranking.front[3]);
  EXPECT_GT(ranking.front[1], ranking.front[0]);
  EXPECT_EQ(ranking.crowding[1], 0.0);
  EXPECT_EQ(std::vector<std::uint32_t>(ranking.order.end() - 2, ranking.order.end()),
            (std::vector<std::uint32_t>{1, 3}));
}

}  // namespace
}  // namespace esp::evolution
