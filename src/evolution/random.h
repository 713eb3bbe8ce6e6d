// Deterministic random numbers for evolution. Every candidate draws from its own
// stream, keyed by (seed, generation, purpose, index), so results do not depend on
// how work is split across threads, nor on the CPU: bulk fills are plain loops over
// unit_math.h kernels that give the same bits in every vector clone.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace esp::evolution {

using Seed = std::uint64_t;

// A seed for experiments that do not give one: a stable hash of the experiment id.
Seed seed_from(std::string_view experiment_id);

// Mixes two 64-bit values into one well-spread key (SplitMix64 finaliser).
std::uint64_t mix_key(std::uint64_t a, std::uint64_t b);

// Geometric gaps with success probability p in (0, 1): the number of failures before a
// success, i.e. the gap to the next mutated weight. Building one takes a logarithm, so a
// caller builds it once per probability, not once per fill.
class GeometricGaps {
 public:
  explicit GeometricGaps(double p);

 private:
  friend class RandomStream;
  float scale_;  // 1 / ln(1 - p)
};

// SplitMix64 over a counter: value i is a pure function of (key, i).
class RandomStream {
 public:
  explicit RandomStream(std::uint64_t key) : key_(key) {}

  std::uint64_t next_u64();
  // Uniform in [0, 1) with 24 random bits.
  float next_float();
  // Uniform in [0, bound); bound > 0.
  std::uint64_t next_below(std::uint64_t bound);

  void fill_u64(std::span<std::uint64_t> out);
  // Uniform in (0, 1]: safe to take the logarithm of.
  void fill_open_unit(std::span<float> out);
  // Uniform in [low, high).
  void fill_uniform(std::span<float> out, float low, float high);
  // Standard normal (Box-Muller over bulk uniforms; tails cut at 5.77 sigma).
  void fill_normal(std::span<float> out);
  // Draws from `gaps`; saturates at 2^31.
  void fill_skips(std::span<std::uint32_t> out, const GeometricGaps& gaps);

 private:
  std::uint64_t key_;
  std::uint64_t counter_ = 0;
};

}  // namespace esp::evolution
