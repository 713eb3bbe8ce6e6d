// Parent selection among the candidates allowed to breed.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "evolution/params.h"
#include "evolution/random.h"

namespace esp::evolution {

// The candidates that may become parents, best first, with the weight each gets under
// fitness-proportionate selection (ignored by the other methods; need not sum to 1).
struct ParentPool {
  std::vector<std::uint32_t> candidates;
  std::vector<double> weights;
};

struct ParentPair {
  std::uint32_t first;
  std::uint32_t second;  // differs from first whenever the pool has two candidates
};

// tournament: binary tournament on pool position (the better ranked wins);
// proportion: chance proportional to weight; random: uniform.
std::vector<ParentPair> select_parents(ParentSelection method, const ParentPool& pool,
                                       std::size_t pairs, RandomStream& random);

}  // namespace esp::evolution
