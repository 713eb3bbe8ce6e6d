#include "evolution/random.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <string>
#include <vector>

#include "evolution/unit_math.h"

namespace esp::evolution {
namespace {

constexpr std::size_t kMillion = 1'000'000;

// Every (0, 1] uniform the streams draw is 1 - j / 2^24; a stride keeps the debug build quick.
std::vector<float> drawable_units(std::uint32_t stride) {
  std::vector<float> units;
  for (std::uint32_t j = 0; j < (1U << 24); j += stride)
    units.push_back(1.0F - static_cast<float>(j) * 0x1.0p-24F);
  units.push_back(0x1.0p-24F);  // the smallest
  return units;
}

double float_ulp(double value) {
  const auto f = static_cast<float>(value);
  return std::nextafter(std::fabs(f), 1e30F) - std::fabs(f);
}

TEST(UnitMath, LogIsWithinOneUlpOfTheExactValue) {
  double worst = 0;
  for (float u : drawable_units(3)) {
    const double exact = std::log(static_cast<double>(u));
    if (exact == 0) {
      EXPECT_EQ(unit_math::log_unit(u), 0.0F);
      continue;
    }
    worst = std::max(worst, std::fabs(unit_math::log_unit(u) - exact) / float_ulp(exact));
  }
  EXPECT_LT(worst, 1.0);
}

TEST(UnitMath, SineAndCosineAreWithinTwoTenMillionthsOfTheExactValues) {
  double worst = 0;
  for (float u : drawable_units(3)) {
    const double angle = 2 * std::numbers::pi * static_cast<double>(u);
    const auto [sin, cos] = unit_math::sincos_turn(u);
    worst = std::max({worst, std::fabs(sin - std::sin(angle)), std::fabs(cos - std::cos(angle))});
  }
  EXPECT_LT(worst, 2e-7);
  const auto full_turn = unit_math::sincos_turn(1.0F);
  EXPECT_EQ(full_turn.sin, 0.0F);
  EXPECT_EQ(full_turn.cos, 1.0F);
}

TEST(UnitMath, LogOfOneMinusMatchesTheLibrary) {
  for (double p : {0.0, 1e-9, 1e-4, 0.01, 0.1, 0.29, 0.5, 0.500001, 0.7, 0.9, 0.999, 1 - 1e-12}) {
    const double exact = std::log1p(-p);
    EXPECT_NEAR(unit_math::log_one_minus(p), exact, 4e-16 * std::fabs(exact)) << "p=" << p;
  }
}

// The kernels must give the same bits at every vector width, or a population would depend on
// the CPU that bred it. This file is built like random.cpp (-O3, no contraction), so these
// loops vectorise as the library's clones do, and are compared with one element at a time.
struct KernelOutputs {
  std::vector<float> logs, sines, cosines;

  explicit KernelOutputs(std::size_t n) : logs(n), sines(n), cosines(n) {}
  bool operator==(const KernelOutputs&) const = default;
};

// Inlined into each caller below, so it is vectorised for the caller's target.
[[gnu::always_inline]] inline void run_kernels(const std::vector<float>& units,
                                               KernelOutputs& out) {
  for (std::size_t i = 0; i < units.size(); ++i) {
    out.logs[i] = unit_math::log_unit(units[i]);
    const auto [sin, cos] = unit_math::sincos_turn(units[i]);
    out.sines[i] = sin;
    out.cosines[i] = cos;
  }
}

__attribute__((optimize("no-tree-vectorize", "no-tree-slp-vectorize"))) void one_at_a_time(
    const std::vector<float>& units, KernelOutputs& out) {
  run_kernels(units, out);
}
void baseline_width(const std::vector<float>& units, KernelOutputs& out) {
  run_kernels(units, out);
}
#if defined(__x86_64__)
__attribute__((target("avx2"))) void avx2_width(const std::vector<float>& units,
                                                KernelOutputs& out) {
  run_kernels(units, out);
}
__attribute__((target("arch=x86-64-v4"))) void avx512_width(const std::vector<float>& units,
                                                            KernelOutputs& out) {
  run_kernels(units, out);
}
#endif

TEST(UnitMath, EveryVectorWidthGivesTheSameBits) {
  const auto units = drawable_units(97);
  KernelOutputs expected(units.size());
  one_at_a_time(units, expected);
  auto check = [&](const std::string& width,
                   void (*kernel)(const std::vector<float>&, KernelOutputs&)) {
    KernelOutputs got(units.size());
    kernel(units, got);
    EXPECT_TRUE(got == expected) << width << " differs from one element at a time";
  };
  check("baseline", baseline_width);
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx2")) check("avx2", avx2_width);
  if (__builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) {
    check("x86-64-v4", avx512_width);
  }
#endif
}

std::vector<float> normals(std::size_t n, std::uint64_t key) {
  std::vector<float> out(n);
  RandomStream(key).fill_normal(out);
  return out;
}

double normal_cdf(double x) {
  return 0.5 * std::erfc(-x / std::numbers::sqrt2);
}

TEST(RandomStream, NormalsFollowTheStandardNormalDistribution) {
  auto draws = normals(kMillion, 11);
  double sum = 0;
  double squares = 0;
  for (float x : draws) {
    ASSERT_TRUE(std::isfinite(x));
    sum += x;
    squares += double(x) * x;
  }
  const double n = double(draws.size());
  EXPECT_NEAR(sum / n, 0.0, 5 / std::sqrt(n));
  EXPECT_NEAR(squares / n, 1.0, 5 * std::sqrt(2 / n));
  // Kolmogorov-Smirnov: 1.95 / sqrt(n) is the 0.1% critical value.
  std::sort(draws.begin(), draws.end());
  double distance = 0;
  for (std::size_t i = 0; i < draws.size(); ++i) {
    const double cdf = normal_cdf(draws[i]);
    distance =
        std::max({distance, std::fabs(cdf - double(i) / n), std::fabs(double(i + 1) / n - cdf)});
  }
  EXPECT_LT(distance, 1.95 / std::sqrt(n));
  // Tails are cut at sqrt(-2 ln 2^-24), about 5.77 sigma.
  EXPECT_LT(std::max(-draws.front(), draws.back()), 5.78F);
}

TEST(RandomStream, CountsEndingMidPairOrMidChunkFillEveryValue) {
  // A missed tail would leave the NaNs in place; a reused buffer would repeat values.
  for (std::size_t n : {1U, 2U, 3U, 255U, 256U, 257U, 1001U}) {
    std::vector<float> draws(n, std::nanf(""));
    RandomStream(5).fill_normal(draws);
    EXPECT_TRUE(std::ranges::all_of(draws, [](float x) { return std::isfinite(x); })) << n;
    std::ranges::sort(draws);
    EXPECT_EQ(std::ranges::adjacent_find(draws), draws.end()) << n;
  }
}

TEST(RandomStream, SkipsAreGeometric) {
  for (double p : {0.5, 0.1, 0.01}) {
    std::vector<std::uint32_t> skips(kMillion);
    RandomStream(17).fill_skips(skips, GeometricGaps(p));
    const double n = double(skips.size());
    // P(skip >= k) = (1 - p)^k; each share within 5 standard deviations.
    for (std::uint32_t k : {1U, 2U, 5U, 20U}) {
      const double expected = std::pow(1 - p, k);
      const auto at_least =
          std::count_if(skips.begin(), skips.end(), [k](std::uint32_t s) { return s >= k; });
      EXPECT_NEAR(double(at_least) / n, expected, 5 * std::sqrt(expected * (1 - expected) / n))
          << "p=" << p << " k=" << k;
    }
  }
}

TEST(RandomStream, SameKeySameNumbersDifferentKeyDifferentNumbers) {
  EXPECT_EQ(normals(1000, 1), normals(1000, 1));
  EXPECT_NE(normals(1000, 1), normals(1000, 2));
}

}  // namespace
}  // namespace esp::evolution
