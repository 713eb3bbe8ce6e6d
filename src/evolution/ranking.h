// Multi-objective ranking: non-dominated fronts, crowding distances (NSGA-II) and
// the resulting best-first order of an evaluated population.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "evolution/params.h"

namespace esp::evolution {

// One candidate's metrics as a client reports them: metric name -> value.
using MetricValues = std::map<std::string, double, std::less<>>;

// Metric values of a population: one row per candidate, one column per objective
// in `fitness` order. NaN (the initial value) marks a missing metric.
class Scores {
 public:
  Scores(std::size_t candidates, std::size_t objectives);

  // Picks each objective's metric by name; metrics the fitness does not name are ignored.
  static Scores from(std::span<const MetricValues> metrics, std::span<const Objective> fitness);

  std::size_t candidates() const { return candidates_; }
  std::size_t objectives() const { return objectives_; }
  double& at(std::size_t candidate, std::size_t objective) {
    return values_[candidate * objectives_ + objective];
  }
  double at(std::size_t candidate, std::size_t objective) const {
    return values_[candidate * objectives_ + objective];
  }
  std::span<const double> row(std::size_t candidate) const {
    return {values_.data() + candidate * objectives_, objectives_};
  }
  bool complete(std::size_t candidate) const;  // every value present and finite

 private:
  std::size_t candidates_;
  std::size_t objectives_;
  std::vector<double> values_;
};

// Front index (0 = non-dominated) of each of the points in `values` (row-major,
// `objectives` columns, all minimised, all finite). Identical points share a front.
// Two objectives: O(N log N) sweep; three: sweep with a staircase per front,
// O(N log N log F); more: efficient non-dominated sort with binary search (ENS-BS,
// Zhang et al. 2015).
std::vector<std::uint32_t> nondominated_fronts(std::span<const double> values,
                                               std::size_t objectives);

// NSGA-II crowding distance of each point within its front; front boundaries are infinite.
std::vector<double> crowding_distances(std::span<const double> values, std::size_t objectives,
                                       std::span<const std::uint32_t> fronts);

struct Ranking {
  std::vector<std::uint32_t> front;       // per candidate; incomplete candidates get the last front
  std::vector<double> crowding;           // per candidate; 0 for incomplete candidates
  std::vector<std::uint32_t> order;       // candidates best first: front, then crowding, then index
  std::vector<std::uint32_t> incomplete;  // candidates with a missing or non-finite metric
};

// Ranks candidates by `fitness` (maximised objectives negated). One objective is a
// plain sort; several use NSGA-II. Incomplete candidates rank after all others.
Ranking rank_candidates(const Scores& scores, std::span<const Objective> fitness);

}  // namespace esp::evolution
