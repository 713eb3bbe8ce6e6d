#include "evolution/ranking.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
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

// Three objectives: after sorting by (f1, f2, f3) and merging duplicates, a point is
// dominated by front k exactly when some member has f2 and f3 no larger. Each front keeps
// the staircase of its members in (f2, f3), the members no other member beats on both, so
// the test is one ordered lookup; fronts are binary-searched: O(N log N log F) in all.
class Staircase {
 public:
  bool dominates(double f2, double f3) const {
    auto it = steps_.upper_bound(f2);  // first step with a larger f2
    return it != steps_.begin() && std::prev(it)->second <= f3;
  }

  // Caller guarantees !dominates(f2, f3): steps with f2 <= this one all have a larger f3.
  void insert(double f2, double f3) {
    auto it = steps_.lower_bound(f2);
    while (it != steps_.end() && it->second >= f3)
      it = steps_.erase(it);
    steps_.emplace_hint(it, f2, f3);
  }

 private:
  std::map<double, double> steps_;  // f2 -> f3, f3 falling as f2 rises
};

std::vector<Index> fronts_three(std::span<const double> values) {
  const std::size_t n = values.size() / 3;
  auto order = lexicographic_order(values, 3);
  std::vector<Index> fronts(n);
  std::vector<Staircase> staircases;
  for (std::size_t k = 0; k < n; ++k) {
    const Index index = order[k];
    if (k > 0 && same_row(values, 3, index, order[k - 1])) {
      fronts[index] = fronts[order[k - 1]];
      continue;
    }
    const double f2 = values[std::size_t{index} * 3 + 1];
    const double f3 = values[std::size_t{index} * 3 + 2];
    auto first_free =
        std::partition_point(staircases.begin(), staircases.end(),
                             [&](const Staircase& front) { return front.dominates(f2, f3); });
    if (first_free == staircases.end()) first_free = staircases.emplace(staircases.end());
    first_free->insert(f2, f3);
    fronts[index] = static_cast<Index>(first_free - staircases.begin());
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

// Best first: lower front, then larger crowding distance, then lower index. Sorting
// compact keys rather than indices keeps the comparisons in cache.
std::vector<Index> crowded_order(std::span<const Index> fronts, std::span<const double> crowding) {
  struct Key {
    Index front;
    Index index;
    double crowding;
  };
  std::vector<Key> keys(fronts.size());
  for (std::size_t i = 0; i < keys.size(); ++i)
    keys[i] = {fronts[i], Index(i), crowding[i]};
  std::sort(keys.begin(), keys.end(), [](const Key& a, const Key& b) {
    if (a.front != b.front) return a.front < b.front;
    if (a.crowding != b.crowding) return a.crowding > b.crowding;
    return a.index < b.index;
  });
  std::vector<Index> order(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i)
    order[i] = keys[i].index;
  return order;
}

}  // namespace

Scores::Scores(std::size_t candidates, std::size_t objectives)
    : candidates_(candidates),
      objectives_(objectives),
      values_(candidates * objectives, std::numeric_limits<double>::quiet_NaN()) {}

Scores Scores::from(std::span<const MetricValues> metrics, std::span<const Objective> fitness) {
  Scores scores(metrics.size(), fitness.size());
  for (std::size_t i = 0; i < metrics.size(); ++i) {
    for (std::size_t j = 0; j < fitness.size(); ++j) {
      auto it = metrics[i].find(fitness[j].metric_name);
      if (it != metrics[i].end()) scores.at(i, j) = it->second;
    }
  }
  return scores;
}

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
  if (objectives == 3) return fronts_three(values);
  return fronts_many(values, objectives);
}

std::vector<double> crowding_distances(std::span<const double> values, std::size_t objectives,
                                       std::span<const std::uint32_t> fronts) {
  const std::size_t n = fronts.size();
  std::vector<double> distance(n, 0.0);
  if (n == 0) return distance;
  // Counting sort by front, then each front sorted once per objective on (value, index)
  // pairs held in one reused buffer.
  const std::size_t front_count = *std::max_element(fronts.begin(), fronts.end()) + std::size_t{1};
  std::vector<std::size_t> starts(front_count + 1, 0);
  for (Index front : fronts)
    ++starts[front + 1];
  std::partial_sum(starts.begin(), starts.end(), starts.begin());
  std::vector<Index> by_front(n);
  std::vector<std::size_t> next(starts.begin(), starts.end() - 1);
  for (std::size_t i = 0; i < n; ++i)
    by_front[next[fronts[i]]++] = Index(i);

  constexpr double kInfinity = std::numeric_limits<double>::infinity();
  std::vector<std::pair<double, Index>> sorted;
  for (std::size_t front = 0; front < front_count; ++front) {
    std::span<const Index> members(by_front.data() + starts[front],
                                   starts[front + 1] - starts[front]);
    if (members.empty()) continue;
    for (std::size_t j = 0; j < objectives; ++j) {
      sorted.clear();
      for (Index i : members)
        sorted.emplace_back(values[std::size_t{i} * objectives + j], i);
      std::sort(sorted.begin(), sorted.end());
      const double low = sorted.front().first;
      const double high = sorted.back().first;
      distance[sorted.front().second] = kInfinity;
      distance[sorted.back().second] = kInfinity;
      if (high == low) continue;
      for (std::size_t k = 1; k + 1 < sorted.size(); ++k) {
        distance[sorted[k].second] += (sorted[k + 1].first - sorted[k - 1].first) / (high - low);
      }
    }
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
  ranking.order = crowded_order(ranking.front, ranking.crowding);
  return ranking;
}

}  // namespace esp::evolution
