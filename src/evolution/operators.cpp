#include "evolution/operators.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <set>

#include "evolution/vector_clones.h"

namespace esp::evolution {
namespace {

// Uniform crossover takes 32 weights per 32 random bits. A table of single-bit masks,
// rather than a variable shift, lets the compiler turn the choice into vector blends.
constexpr std::size_t kBlock = 32;
constexpr auto kBit = [] {
  std::array<std::uint32_t, kBlock> bits{};
  for (std::size_t j = 0; j < kBlock; ++j)
    bits[j] = std::uint32_t{1} << j;
  return bits;
}();

// `a` when bit is non-zero, else `b`; branch-free so both loads are unconditional.
inline float select(std::uint32_t bit, float a, float b) {
  const std::uint32_t take_a = 0U - static_cast<std::uint32_t>(bit != 0);
  const auto bits =
      (std::bit_cast<std::uint32_t>(a) & take_a) | (std::bit_cast<std::uint32_t>(b) & ~take_a);
  return std::bit_cast<float>(bits);
}

std::uint32_t block_mask(std::span<const std::uint64_t> words, std::size_t block) {
  return static_cast<std::uint32_t>(words[block / 2] >> (32 * (block % 2)));
}
constexpr std::size_t kMaxChunk = 256;

void apply_noise(MutationType type, float factor, float& weight, float draw) {
  switch (type) {
    case MutationType::kGaussianNoisePercentage:
      weight += weight * factor * draw;
      return;
    case MutationType::kGaussianNoiseFixed:
      weight += factor * draw;
      return;
    case MutationType::kUniformReset:
      weight = draw;
      return;
    case MutationType::kNone:
      return;
  }
}

void fill_draws(const MutationSettings& settings, RandomStream& random, std::span<float> out) {
  if (settings.type == MutationType::kUniformReset) {
    random.fill_uniform(out, -settings.reset_range, settings.reset_range);
  } else {
    random.fill_normal(out);
  }
}

// Every weight mutates: one bulk draw per chunk, applied in a plain loop.
void mutate_all(std::span<float> genome, const MutationSettings& settings, RandomStream& random,
                OperatorScratch& scratch) {
  scratch.noise.resize(kMaxChunk);
  for (std::size_t start = 0; start < genome.size(); start += kMaxChunk) {
    std::size_t count = std::min(kMaxChunk, genome.size() - start);
    std::span<float> draws(scratch.noise.data(), count);
    fill_draws(settings, random, draws);
    for (std::size_t i = 0; i < count; ++i) {
      apply_noise(settings.type, settings.factor, genome[start + i], draws[i]);
    }
  }
}

}  // namespace

ESP_VECTOR_CLONES
void uniform_crossover(std::span<const float> first, std::span<const float> second,
                       std::span<float> child, RandomStream& random, OperatorScratch& scratch) {
  const std::size_t n = child.size();
  const std::size_t blocks = (n + kBlock - 1) / kBlock;
  scratch.bits.resize((blocks + 1) / 2);
  random.fill_u64(scratch.bits);
  const float* a = first.data();
  const float* b = second.data();
  float* out = child.data();
  std::size_t block = 0;
  for (; (block + 1) * kBlock <= n; ++block) {
    const std::uint32_t mask = block_mask(scratch.bits, block);
    const std::size_t base = block * kBlock;
    for (std::size_t j = 0; j < kBlock; ++j) {
      out[base + j] = select(mask & kBit[j], a[base + j], b[base + j]);
    }
  }
  for (std::size_t i = block * kBlock; i < n; ++i) {
    out[i] = select(block_mask(scratch.bits, block) & kBit[i - block * kBlock], a[i], b[i]);
  }
}

void uniform_layer_crossover(const NetworkShape& shape, std::span<const float> first,
                             std::span<const float> second, std::span<float> child,
                             RandomStream& random) {
  for (const auto& layer : shape.layers()) {
    const auto from = (random.next_u64() & 1) != 0 ? first : second;
    const auto begin = from.begin() + std::ptrdiff_t(layer.offset);
    std::copy(begin, begin + std::ptrdiff_t(layer.weight_count()),
              child.begin() + std::ptrdiff_t(layer.offset));
  }
}

void points_crossover(std::size_t points, std::span<const float> first,
                      std::span<const float> second, std::span<float> child, RandomStream& random) {
  const std::size_t n = child.size();
  const std::size_t places = n == 0 ? 0 : n - 1;  // cut before weight 1 .. n-1
  const std::size_t k = std::min(points, places);
  // Floyd's sampling: k distinct cuts from [1, places] with k draws.
  std::set<std::size_t> cuts;
  for (std::size_t j = places - k + 1; j <= places; ++j) {
    const std::size_t t = 1 + random.next_below(j);
    cuts.insert(cuts.contains(t) ? j : t);
  }
  std::size_t start = 0;
  bool from_first = true;
  cuts.insert(n);
  for (std::size_t cut : cuts) {
    const auto from = from_first ? first : second;
    std::copy(from.begin() + std::ptrdiff_t(start), from.begin() + std::ptrdiff_t(cut),
              child.begin() + std::ptrdiff_t(start));
    start = cut;
    from_first = !from_first;
  }
}

Mutation::Mutation(const MutationSettings& settings) : settings_(settings) {
  if (settings.probability > 0 && settings.probability < 1) gaps_.emplace(settings.probability);
}

void Mutation::apply(std::span<float> genome, RandomStream& random,
                     OperatorScratch& scratch) const {
  const double p = settings_.probability;
  if (p <= 0 || genome.empty() || settings_.type == MutationType::kNone) return;
  if (p >= 1) {
    mutate_all(genome, settings_, random, scratch);
    return;
  }
  // Skip straight from one mutated weight to the next (geometric gaps): the work and the
  // random numbers drawn scale with the number of mutations, not of weights. Chunks are
  // sized to the expected count so small genomes draw little.
  const double expected = static_cast<double>(genome.size()) * p;
  const auto chunk =
      std::clamp<std::size_t>(static_cast<std::size_t>(expected * 1.1) + 8, 8, kMaxChunk);
  scratch.skips.resize(chunk);
  scratch.noise.resize(chunk);
  std::size_t position = 0;
  for (;;) {
    random.fill_skips(scratch.skips, *gaps_);
    fill_draws(settings_, random, scratch.noise);
    for (std::size_t k = 0; k < chunk; ++k) {
      position += scratch.skips[k];
      if (position >= genome.size()) return;
      apply_noise(settings_.type, settings_.factor, genome[position], scratch.noise[k]);
      ++position;
    }
  }
}

}  // namespace esp::evolution
