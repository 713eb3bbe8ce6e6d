// Built with -ffast-math (see CMakeLists.txt) so that the logarithm, square root
// and sine/cosine loops use glibc's vector math. Results stay identical for a given
// binary whatever the thread count, since every stream is a pure function of its key.
#include "evolution/random.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>

namespace esp::evolution {
namespace {

__extension__ using Uint128 = unsigned __int128;

constexpr std::uint64_t kGamma = 0x9E3779B97F4A7C15ULL;
constexpr std::size_t kChunk = 256;

inline std::uint64_t splitmix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

inline float unit_from_bits(std::uint32_t bits24) {
  return static_cast<float>(bits24) * 0x1.0p-24F;
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
  return unit_from_bits(next_u64() >> 40);
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
  const std::uint64_t base = key_ + counter_ * kGamma;
  const std::size_t n = out.size();
  std::uint64_t* data = out.data();
  for (std::size_t i = 0; i < n; ++i)
    data[i] = splitmix(base + (i + 1) * kGamma);
  counter_ += n;
}

// Two 24-bit uniforms per 64-bit draw.
void RandomStream::fill_open_unit(std::span<float> out) {
  std::array<std::uint64_t, kChunk / 2> bits;
  for (std::size_t start = 0; start < out.size(); start += kChunk) {
    std::size_t count = std::min(kChunk, out.size() - start);
    std::size_t draws = (count + 1) / 2;
    fill_u64({bits.data(), draws});
    float* dest = out.data() + start;
    for (std::size_t i = 0; i < count / 2; ++i) {
      dest[2 * i] = 1.0F - unit_from_bits(static_cast<std::uint32_t>(bits[i] >> 40));
      dest[2 * i + 1] = 1.0F - unit_from_bits(static_cast<std::uint32_t>(bits[i] >> 8) & 0xFFFFFF);
    }
    if (count % 2 == 1) dest[count - 1] = 1.0F - unit_from_bits(bits[draws - 1] >> 40);
  }
}

void RandomStream::fill_uniform(std::span<float> out, float low, float high) {
  fill_open_unit(out);
  const float width = high - low;
  for (float& v : out)
    v = high - v * width;  // v in (0, 1] maps to [low, high)
}

void RandomStream::fill_normal(std::span<float> out) {
  constexpr float kTwoPi = 2.0F * std::numbers::pi_v<float>;
  constexpr std::size_t kPairs = kChunk / 2;
  std::array<float, kChunk> u;
  std::array<float, kPairs> radius;
  std::array<float, kPairs> angle;
  for (std::size_t start = 0; start < out.size(); start += kChunk) {
    const std::size_t count = std::min(kChunk, out.size() - start);
    const std::size_t pairs = (count + 1) / 2;
    fill_open_unit({u.data(), 2 * pairs});
    // Separate loops: a loop with both sin and cos becomes sincosf, which has no vector form.
    for (std::size_t i = 0; i < pairs; ++i)
      radius[i] = std::sqrt(-2.0F * std::log(u[i]));
    for (std::size_t i = 0; i < pairs; ++i)
      angle[i] = kTwoPi * u[pairs + i];
    float* dest = out.data() + start;
    for (std::size_t i = 0; i < pairs; ++i)
      dest[i] = radius[i] * std::cos(angle[i]);
    const std::size_t rest = count - pairs;
    for (std::size_t i = 0; i < rest; ++i)
      dest[pairs + i] = radius[i] * std::sin(angle[i]);
  }
}

void RandomStream::fill_skips(std::span<std::uint32_t> out, double p) {
  std::array<float, kChunk> u;
  const float scale = static_cast<float>(1.0 / std::log1p(-p));
  constexpr float kMaxSkip = 2147483520.0F;  // the largest float below 2^31
  for (std::size_t start = 0; start < out.size(); start += kChunk) {
    const std::size_t count = std::min(kChunk, out.size() - start);
    fill_open_unit({u.data(), count});
    std::uint32_t* dest = out.data() + start;
    for (std::size_t i = 0; i < count; ++i) {
      // log(u) * scale >= 0, so truncation is the floor.
      float skip = std::min(std::log(u[i]) * scale, kMaxSkip);
      dest[i] = static_cast<std::uint32_t>(static_cast<std::int32_t>(skip));
    }
  }
}

}  // namespace esp::evolution
