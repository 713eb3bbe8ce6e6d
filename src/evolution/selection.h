// Parent selection among the candidates allowed to breed.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "evolution/params.h"
#include "evolution/random.h"

namespace esp::evolution {

// The candidates that may become parents, best first, with each one's fitness for the
// methods that weigh it (proportion, sigma_scaling; larger is better; need not be
// positive). The other methods use only the order.
struct ParentPool {
  std::vector<std::uint32_t> candidates;
  std::vector<double> fitness;
};

struct ParentPair {
  std::uint32_t first;
  std::uint32_t second;
};

struct SelectionSettings {
  ParentSelection method = ParentSelection::kTournament;
  double sigma_scaling_factor = 2.0;
};

// Whether `method` reads ParentPool::fitness.
bool weighs_fitness(ParentSelection method);

// `pairs` parent pairs (ParentSelection says how each method draws). tournament may
// pair a candidate with itself; tournament_distinct and best never do while the pool
// has two candidates; the others draw the second parent again when it equals the first.
std::vector<ParentPair> select_parents(const SelectionSettings& settings, const ParentPool& pool,
                                       std::size_t pairs, RandomStream& random);

}  // namespace esp::evolution
