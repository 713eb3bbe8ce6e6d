#include "evolution/selection.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace esp::evolution {
namespace {

// Draws pool positions; one object per selection so the cumulative weights are built once.
class PositionDraw {
 public:
  PositionDraw(ParentSelection method, const ParentPool& pool)
      : method_(method), size_(pool.candidates.size()) {
    if (method_ != ParentSelection::kProportion) return;
    cumulative_.resize(size_);
    std::partial_sum(pool.weights.begin(), pool.weights.begin() + std::ptrdiff_t(size_),
                     cumulative_.begin());
    if (!(cumulative_.back() > 0)) method_ = ParentSelection::kRandom;  // all weights zero
  }

  std::size_t operator()(RandomStream& random) const {
    switch (method_) {
      case ParentSelection::kTournament:
        return std::min(random.next_below(size_), random.next_below(size_));
      case ParentSelection::kProportion: {
        double target = random.next_float() * cumulative_.back();
        auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), target);
        return std::min<std::size_t>(it - cumulative_.begin(), size_ - 1);
      }
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

}  // namespace

std::vector<ParentPair> select_parents(ParentSelection method, const ParentPool& pool,
                                       std::size_t pairs, RandomStream& random) {
  if (pool.candidates.empty()) throw std::invalid_argument("select_parents: empty pool");
  if (method == ParentSelection::kProportion && pool.weights.size() != pool.candidates.size()) {
    throw std::invalid_argument("select_parents: one weight per candidate needed");
  }
  PositionDraw draw(method, pool);
  constexpr int kRedraws = 8;  // a second parent equal to the first is drawn again, boundedly
  std::vector<ParentPair> selected(pairs);
  for (auto& pair : selected) {
    std::size_t first = draw(random);
    std::size_t second = draw(random);
    for (int attempt = 0; second == first && pool.candidates.size() > 1; ++attempt) {
      second = attempt < kRedraws ? draw(random) : (first + 1) % pool.candidates.size();
    }
    pair = {pool.candidates[first], pool.candidates[second]};
  }
  return selected;
}

}  // namespace esp::evolution
