#include "evolution/selection.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace esp::evolution {
namespace {

// The chance of each pool position under a weighing method, as cumulative weights.
std::vector<double> cumulative_weights(const SelectionSettings& settings, const ParentPool& pool) {
  const std::size_t n = pool.candidates.size();
  std::vector<double> weights(n, 1.0);
  switch (settings.method) {
    case ParentSelection::kRanking:
      for (std::size_t i = 0; i < n; ++i)
        weights[i] = static_cast<double>(n - i);
      break;
    case ParentSelection::kProportion: {
      // Shifted so the worst keeps a small share: works whatever the signs of fitness.
      const auto [worst, best] = std::ranges::minmax(pool.fitness);
      const double floor = (best - worst) / static_cast<double>(n);
      for (std::size_t i = 0; i < n; ++i)
        weights[i] = pool.fitness[i] - worst + floor;
      break;
    }
    case ParentSelection::kSigmaScaling: {
      const double mean =
          std::accumulate(pool.fitness.begin(), pool.fitness.end(), 0.0) / static_cast<double>(n);
      double variance = 0;
      for (double f : pool.fitness)
        variance += (f - mean) * (f - mean);
      const double sd = std::sqrt(variance / static_cast<double>(n));
      constexpr double kFloor = 0.1;  // far below the mean still has a chance
      for (std::size_t i = 0; i < n && sd > 0; ++i)
        weights[i] =
            std::max(kFloor, 1.0 + (pool.fitness[i] - mean) / (settings.sigma_scaling_factor * sd));
      break;
    }
    default:
      break;
  }
  std::partial_sum(weights.begin(), weights.end(), weights.begin());
  return weights;
}

// Draws one pool position by the method's rule.
class PositionDraw {
 public:
  PositionDraw(const SelectionSettings& settings, const ParentPool& pool)
      : method_(settings.method), size_(pool.candidates.size()) {
    if (!weighs_fitness(method_) && method_ != ParentSelection::kRanking) return;
    cumulative_ = cumulative_weights(settings, pool);
    if (!(cumulative_.back() > 0)) method_ = ParentSelection::kRandom;  // all weights zero
  }

  std::size_t operator()(RandomStream& random) const {
    switch (method_) {
      case ParentSelection::kTournament:
      case ParentSelection::kTournamentDistinct:
        return std::min(random.next_below(size_), random.next_below(size_));
      case ParentSelection::kProportion:
      case ParentSelection::kRanking:
      case ParentSelection::kSigmaScaling: {
        double target = random.next_float() * cumulative_.back();
        auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), target);
        return std::min<std::size_t>(it - cumulative_.begin(), size_ - 1);
      }
      case ParentSelection::kBest:
        return 0;
      case ParentSelection::kRandom:
        break;
    }
    return random.next_below(size_);
  }

 private:
  ParentSelection method_;
  std::size_t size_;
  std::vector<double> cumulative_;
};

// Four distinct positions (as many as there are), two binary tournaments among them.
ParentPair distinct_tournaments(std::size_t size, RandomStream& random) {
  std::array<std::size_t, 4> drawn{};
  const std::size_t count = std::min<std::size_t>(4, size);
  for (std::size_t k = 0; k < count; ++k) {
    // Drawn again until new: at most 4 of `size` are taken, so this ends quickly.
    std::size_t position = 0;
    do {
      position = random.next_below(size);
    } while (std::find(drawn.begin(), drawn.begin() + std::ptrdiff_t(k), position) !=
             drawn.begin() + std::ptrdiff_t(k));
    drawn[k] = position;
  }
  switch (count) {
    case 1:
      return {static_cast<std::uint32_t>(drawn[0]), static_cast<std::uint32_t>(drawn[0])};
    case 2:
      return {static_cast<std::uint32_t>(drawn[0]), static_cast<std::uint32_t>(drawn[1])};
    case 3:
      return {static_cast<std::uint32_t>(std::min(drawn[0], drawn[1])),
              static_cast<std::uint32_t>(drawn[2])};
    default:
      return {static_cast<std::uint32_t>(std::min(drawn[0], drawn[1])),
              static_cast<std::uint32_t>(std::min(drawn[2], drawn[3]))};
  }
}

}  // namespace

bool weighs_fitness(ParentSelection method) {
  return method == ParentSelection::kProportion || method == ParentSelection::kSigmaScaling;
}

std::vector<ParentPair> select_parents(const SelectionSettings& settings, const ParentPool& pool,
                                       std::size_t pairs, RandomStream& random) {
  if (pool.candidates.empty()) throw std::invalid_argument("select_parents: empty pool");
  if (weighs_fitness(settings.method) && pool.fitness.size() != pool.candidates.size()) {
    throw std::invalid_argument("select_parents: one fitness per candidate needed");
  }
  const std::size_t size = pool.candidates.size();
  PositionDraw draw(settings, pool);
  constexpr int kRedraws = 8;  // a second parent equal to the first is drawn again, boundedly
  std::vector<ParentPair> selected(pairs);
  for (auto& pair : selected) {
    std::size_t first = 0;
    std::size_t second = 0;
    if (settings.method == ParentSelection::kTournamentDistinct) {
      const auto positions = distinct_tournaments(size, random);
      first = positions.first;
      second = positions.second;
    } else if (settings.method == ParentSelection::kBest) {
      second = size > 1 ? 1 : 0;
    } else {
      first = draw(random);
      second = draw(random);
      const bool may_repeat = settings.method == ParentSelection::kTournament;
      for (int attempt = 0; !may_repeat && second == first && size > 1; ++attempt) {
        second = attempt < kRedraws ? draw(random) : (first + 1) % size;
      }
    }
    pair = {pool.candidates[first], pool.candidates[second]};
  }
  return selected;
}

}  // namespace esp::evolution
