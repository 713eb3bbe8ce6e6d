#include "evolution/ranking.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace esp::evolution {
namespace {

using Index = std::uint32_t;

// Point indices sorted lexicographically by their objective rows.
std::vector<Index> lexicographic_order(std::span<const double> values, std::size_t m) {
  std::vector<Index> order(values.size() / m);
  std::iota(order.begin(), order.end(), Index{0});
  std::sort(order.begin(), order.end(), [&](Index a, Index b) {
    const double* ra = values.data() + std::size_t{a} * m;
    const double* rb = values.data() + std::size_t{b} * m;
    for (std::size_t j = 0; j < m; ++j) {
      if (ra[j] != rb[j]) return ra[j] < rb[j];
    }
    return a < b;
  });
  return order;
}

bool same_row(std::span<const double> values, std::size_t m, Index a, Index b) {
  return std::equal(values.begin() + std::ptrdiff_t(a * m),
                    values.begin() + std::ptrdiff_t(a * m + m),
                    values.begin() + std::ptrdiff_t(b * m));
}

// One objective: fronts are the distinct values in ascending order.
std::vector<Index> fronts_one(std::span<const double> values) {
  std::vector<Index> fronts(values.size());
  auto order = lexicographic_order(values, 1);
  Index front = 0;
  for (std::size_t k = 0; k < order.size(); ++k) {
    if (k > 0 && values[order[k]] != values[order[k - 1]]) ++front;
    fronts[order[k]] = front;
  }
  return fronts;
}

// Two objectives: after sorting by (f1, f2), a point is dominated by front k exactly when
// the last point added to k has f2 <= its f2; those last values rise with k.
std::vector<Index> fronts_two(std::span<const double> values) {
  const std::size_t n = values.size() / 2;
  struct Point {
    double f1, f2;
    Index index;
  };
  std::vector<Point> points(n);
  for (std::size_t i = 0; i < n; ++i)
    points[i] = {values[2 * i], values[2 * i + 1], Index(i)};
  std::sort(points.begin(), points.end(), [](const Point& a, const Point& b) {
    return a.f1 != b.f1 ? a.f1 < b.f1 : (a.f2 != b.f2 ? a.f2 < b.f2 : a.index < b.index);
  });
  std::vector<Index> fronts(n);
  std::vector<double> last_f2;
  for (std::size_t k = 0; k < n; ++k) {
    const Point& p = points[k];
    if (k > 0 && p.f1 == points[k - 1].f1 && p.f2 == points[k - 1].f2) {
      fronts[p.index] = fronts[points[k - 1].index];
      continue;
    }
    auto it = std::upper_bound(last_f2.begin(), last_f2.end(), p.f2);
    auto front = static_cast<Index>(it - last_f2.begin());
    if (it == last_f2.end()) {
      last_f2.push_back(p.f2);
    } else {
      *it = p.f2;
    }
    fronts[p.index] = front;
  }
  return fronts;
}

// ENS-BS: points in lexicographic order can only be dominated by earlier ones; each front
// keeps its members' objectives 2..m packed, scanned newest first.
std::vector<Index> fronts_many(std::span<const double> values, std::size_t m) {
  const std::size_t n = values.size() / m;
  const std::size_t tail = m - 1;
  auto order = lexicographic_order(values, m);
  std::vector<Index> fronts(n);
  std::vector<std::vector<double>> members;  // per front: tail objectives of each member
  auto dominated_by = [&](const std::vector<double>& front, const double* p) {
    for (std::size_t q = front.size(); q >= tail; q -= tail) {
      const double* other = front.data() + q - tail;
      bool dominates = true;
      for (std::size_t j = 0; j < tail && dominates; ++j)
        dominates = other[j] <= p[j];
      if (dominates) return true;
    }
    return false;
  };
  for (std::size_t k = 0; k < n; ++k) {
    Index index = order[k];
    if (k > 0 && same_row(values, m, index, order[k - 1])) {
      fronts[index] = fronts[order[k - 1]];
      continue;
    }
    const double* p = values.data() + std::size_t{index} * m + 1;
    std::size_t low = 0;
    std::size_t high = members.size();  // first front not dominating p is in [low, high]
    while (low < high) {
      std::size_t mid = (low + high) / 2;
      if (dominated_by(members[mid], p)) {
        low = mid + 1;
      } else {
        high = mid;
      }
    }
    if (low == members.size()) members.emplace_back();
    members[low].insert(members[low].end(), p, p + tail);
    fronts[index] = static_cast<Index>(low);
  }
  return fronts;
}

}  // namespace

Scores::Scores(std::size_t candidates, std::size_t objectives)
    : candidates_(candidates),
      objectives_(objectives),
      values_(candidates * objectives, std::numeric_limits<double>::quiet_NaN()) {}

bool Scores::complete(std::size_t candidate) const {
  auto values = row(candidate);
  return std::all_of(values.begin(), values.end(), [](double v) { return std::isfinite(v); });
}

std::vector<std::uint32_t> nondominated_fronts(std::span<const double> values,
                                               std::size_t objectives) {
  if (objectives == 0 || values.size() % objectives != 0) {
    throw std::invalid_argument("nondominated_fronts: values do not form whole rows");
  }
  if (objectives == 1) return fronts_one(values);
  if (objectives == 2) return fronts_two(values);
  return fronts_many(values, objectives);
}

std::vector<double> crowding_distances(std::span<const double> values, std::size_t objectives,
                                       std::span<const std::uint32_t> fronts) {
  const std::size_t n = fronts.size();
  std::vector<double> distance(n, 0.0);
  if (n == 0) return distance;
  // Group points by front, then sort each group once per objective.
  std::vector<Index> by_front(n);
  std::iota(by_front.begin(), by_front.end(), Index{0});
  std::stable_sort(by_front.begin(), by_front.end(),
                   [&](Index a, Index b) { return fronts[a] < fronts[b]; });
  constexpr double kInfinity = std::numeric_limits<double>::infinity();
  for (std::size_t begin = 0; begin < n;) {
    std::size_t end = begin;
    while (end < n && fronts[by_front[end]] == fronts[by_front[begin]])
      ++end;
    std::span<Index> group(by_front.data() + begin, end - begin);
    for (std::size_t j = 0; j < objectives; ++j) {
      auto value = [&](Index i) { return values[std::size_t{i} * objectives + j]; };
      std::sort(group.begin(), group.end(), [&](Index a, Index b) {
        return value(a) != value(b) ? value(a) < value(b) : a < b;
      });
      double low = value(group.front());
      double high = value(group.back());
      distance[group.front()] = kInfinity;
      distance[group.back()] = kInfinity;
      if (high == low) continue;
      for (std::size_t k = 1; k + 1 < group.size(); ++k) {
        distance[group[k]] += (value(group[k + 1]) - value(group[k - 1])) / (high - low);
      }
    }
    begin = end;
  }
  return distance;
}

Ranking rank_candidates(const Scores& scores, std::span<const Objective> fitness) {
  const std::size_t n = scores.candidates();
  const std::size_t m = fitness.size();
  if (scores.objectives() != m) throw std::invalid_argument("scores do not match fitness");
  Ranking ranking;
  ranking.front.assign(n, 0);
  ranking.crowding.assign(n, 0.0);
  std::vector<Index> complete;
  std::vector<double> minimised;
  complete.reserve(n);
  minimised.reserve(n * m);
  for (std::size_t i = 0; i < n; ++i) {
    if (!scores.complete(i)) {
      ranking.incomplete.push_back(Index(i));
      continue;
    }
    complete.push_back(Index(i));
    for (std::size_t j = 0; j < m; ++j) {
      minimised.push_back(fitness[j].maximize ? -scores.at(i, j) : scores.at(i, j));
    }
  }
  auto fronts = nondominated_fronts(minimised, m);
  std::vector<double> crowding =
      m > 1 ? crowding_distances(minimised, m, fronts) : std::vector<double>(fronts.size(), 0.0);
  Index last_front = 0;
  for (std::size_t k = 0; k < complete.size(); ++k) {
    ranking.front[complete[k]] = fronts[k];
    ranking.crowding[complete[k]] = crowding[k];
    last_front = std::max(last_front, fronts[k] + 1);
  }
  for (Index i : ranking.incomplete)
    ranking.front[i] = last_front;
  ranking.order.resize(n);
  std::iota(ranking.order.begin(), ranking.order.end(), Index{0});
  std::sort(ranking.order.begin(), ranking.order.end(), [&](Index a, Index b) {
    if (ranking.front[a] != ranking.front[b]) return ranking.front[a] < ranking.front[b];
    if (ranking.crowding[a] != ranking.crowding[b]) {
      return ranking.crowding[a] > ranking.crowding[b];
    }
    return a < b;
  });
  return ranking;
}

}  // namespace esp::evolution
