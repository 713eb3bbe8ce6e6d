// Crossover and mutation over genomes: plain loops over contiguous floats fed by
// bulk random numbers, with no allocation once the scratch space has grown.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "evolution/network.h"
#include "evolution/params.h"
#include "evolution/random.h"

namespace esp::evolution {

struct MutationSettings {
  MutationType type = MutationType::kGaussianNoisePercentage;
  float probability = 0.1F;  // per weight
  float factor = 0.1F;       // noise standard deviation (relative for the percentage type)
  float reset_range = 1.0F;  // uniform_reset draws from U(-reset_range, reset_range)
};

// Per-thread buffers for the operators.
struct OperatorScratch {
  std::vector<std::uint64_t> bits;
  std::vector<std::uint32_t> skips;
  std::vector<float> noise;
};

// Each weight comes from `first` or `second` with equal chance.
void uniform_crossover(std::span<const float> first, std::span<const float> second,
                       std::span<float> child, RandomStream& random, OperatorScratch& scratch);

// Each layer (kernel and bias together) comes whole from `first` or `second`.
void uniform_layer_crossover(const NetworkShape& shape, std::span<const float> first,
                             std::span<const float> second, std::span<float> child,
                             RandomStream& random);

// The genome cut in `points` distinct places (at most one fewer than its length), the
// child taking the pieces from `first` and `second` in turn, starting with `first`.
void points_crossover(std::size_t points, std::span<const float> first,
                      std::span<const float> second, std::span<float> child, RandomStream& random);

// Mutates each weight independently with settings.probability. Built once per generation,
// applied to every child.
class Mutation {
 public:
  explicit Mutation(const MutationSettings& settings);

  void apply(std::span<float> genome, RandomStream& random, OperatorScratch& scratch) const;

 private:
  MutationSettings settings_;
  std::optional<GeometricGaps> gaps_;  // when 0 < probability < 1
};

}  // namespace esp::evolution
