// The bulk fills are plain loops over the kernels in unit_math.h, cloned for AVX2 and AVX-512.
// Every clone gives the same bits: the kernels use exactly rounded operations only, and
// this file is built with -ffp-contract=off (see CMakeLists.txt). Results are also the same
// whatever the thread count, since every stream is a pure function of its key.
#include "evolution/random.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

#include "evolution/unit_math.h"
#include "evolution/vector_clones.h"

namespace esp::evolution {
namespace {

__extension__ using Uint128 = unsigned __int128;

constexpr std::uint64_t kGamma = 0x9E3779B97F4A7C15ULL;
constexpr std::size_t kChunk = 256;  // floats per bulk step; scratch stays in L1

inline std::uint64_t splitmix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Uniform in (0, 1] from the top 24 bits of a word.
inline float open_unit(std::uint32_t word) {
  return 1.0F - static_cast<float>(word >> 8) * 0x1.0p-24F;
}

// Values 1..n of the stream whose counter stands at `base`; inlined into each clone below.
[[gnu::always_inline]] inline void splitmix_run(std::uint64_t base, std::uint64_t* out,
                                                std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    out[i] = splitmix(base + (i + 1) * kGamma);
}

ESP_VECTOR_CLONES
void splitmix_fill(std::uint64_t base, std::uint64_t* out, std::size_t n) {
  splitmix_run(base, out, n);
}

// Two uniforms per 64-bit draw, one from each half.
ESP_VECTOR_CLONES
void open_units(std::uint64_t base, float* out, std::size_t count) {
  std::array<std::uint64_t, kChunk / 2> draws;
  std::array<std::uint32_t, kChunk> words;
  const std::size_t n = (count + 1) / 2;
  splitmix_run(base, draws.data(), n);
  std::memcpy(words.data(), draws.data(), n * sizeof(std::uint64_t));
  for (std::size_t i = 0; i < count; ++i)
    out[i] = open_unit(words[i]);
}

// Box-Muller: units[i] sets a radius and units[pairs + i] an angle, giving out[i] and,
// while i < count - pairs, out[pairs + i].
ESP_VECTOR_CLONES
void normals_from(const float* units, std::size_t pairs, float* out, std::size_t count) {
  std::array<float, kChunk / 2> sines;
  for (std::size_t i = 0; i < pairs; ++i) {
    const float radius = std::sqrt(-2.0F * unit_math::log_unit(units[i]));
    const auto [sin, cos] = unit_math::sincos_turn(units[pairs + i]);
    out[i] = radius * cos;
    sines[i] = radius * sin;
  }
  std::copy_n(sines.data(), count - pairs, out + pairs);
}

ESP_VECTOR_CLONES
void skips_from(const float* units, float scale, std::uint32_t* out, std::size_t count) {
  constexpr float kMaxSkip = 2147483520.0F;  // the largest float below 2^31
  for (std::size_t i = 0; i < count; ++i) {
    // log(u) * scale >= 0, so truncation is the floor.
    const float skip = std::min(unit_math::log_unit(units[i]) * scale, kMaxSkip);
    out[i] = static_cast<std::uint32_t>(static_cast<std::int32_t>(skip));
  }
}

}  // namespace

Seed seed_from(std::string_view experiment_id) {
  std::uint64_t hash = 0xCBF29CE484222325ULL;  // FNV-1a, then mixed
  for (unsigned char c : experiment_id)
    hash = (hash ^ c) * 0x100000001B3ULL;
  return splitmix(hash);
}

std::uint64_t mix_key(std::uint64_t a, std::uint64_t b) {
  return splitmix(a ^ splitmix(b + kGamma));
}

std::uint64_t RandomStream::next_u64() {
  return splitmix(key_ + ++counter_ * kGamma);
}

float RandomStream::next_float() {
  return static_cast<float>(next_u64() >> 40) * 0x1.0p-24F;
}

std::uint64_t RandomStream::next_below(std::uint64_t bound) {
  // Lemire's multiply-shift with rejection: unbiased.
  std::uint64_t threshold = -bound % bound;
  for (;;) {
    Uint128 product = static_cast<Uint128>(next_u64()) * bound;
    if (static_cast<std::uint64_t>(product) >= threshold) {
      return static_cast<std::uint64_t>(product >> 64);
    }
  }
}

void RandomStream::fill_u64(std::span<std::uint64_t> out) {
  splitmix_fill(key_ + counter_ * kGamma, out.data(), out.size());
  counter_ += out.size();
}

void RandomStream::fill_open_unit(std::span<float> out) {
  for (std::size_t start = 0; start < out.size(); start += kChunk) {
    const std::size_t count = std::min(kChunk, out.size() - start);
    open_units(key_ + counter_ * kGamma, out.data() + start, count);
    counter_ += (count + 1) / 2;
  }
}

void RandomStream::fill_uniform(std::span<float> out, float low, float high) {
  fill_open_unit(out);
  const float width = high - low;
  for (float& v : out)
    v = high - v * width;  // v in (0, 1] maps to [low, high)
}

void RandomStream::fill_normal(std::span<float> out) {
  std::array<float, kChunk> units;
  for (std::size_t start = 0; start < out.size(); start += kChunk) {
    const std::size_t count = std::min(kChunk, out.size() - start);
    const std::size_t pairs = (count + 1) / 2;
    fill_open_unit({units.data(), 2 * pairs});
    normals_from(units.data(), pairs, out.data() + start, count);
  }
}

GeometricGaps::GeometricGaps(double p)
    : scale_(static_cast<float>(1.0 / unit_math::log_one_minus(p))) {}

void RandomStream::fill_skips(std::span<std::uint32_t> out, const GeometricGaps& gaps) {
  std::array<float, kChunk> units;
  for (std::size_t start = 0; start < out.size(); start += kChunk) {
    const std::size_t count = std::min(kChunk, out.size() - start);
    fill_open_unit({units.data(), count});
    skips_from(units.data(), gaps.scale_, out.data() + start, count);
  }
}

}  // namespace esp::evolution
