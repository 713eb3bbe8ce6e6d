// Logarithm, sine and cosine for the random number kernels, written with exactly rounded
// operations only (add, multiply, conversions, selects). A loop over them gives the same bits
// whether the compiler runs it one, four or eight lanes wide, so vector clones for newer CPUs
// breed the same populations as the baseline build. Polynomials are Cephes' single-precision
// ones (about 1 ulp). Callers compile them with -ffp-contract=off and without -ffast-math.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <numbers>

namespace esp::evolution::unit_math {

// ln(u) for u in (0, 1], normal (not subnormal) floats.
inline float log_unit(float u) {
  const auto bits = std::bit_cast<std::uint32_t>(u);
  auto exponent = static_cast<std::int32_t>(bits >> 23) - 126;
  // u = m * 2^exponent with m in [0.5, 1); m is then moved to [sqrt(1/2), sqrt(2)).
  const auto m = std::bit_cast<float>((bits & 0x007FFFFFU) | 0x3F000000U);
  const bool low = m < std::numbers::sqrt2_v<float> / 2;
  exponent -= static_cast<std::int32_t>(low);
  const float x = (low ? m + m : m) - 1.0F;
  const float z = x * x;
  float p = 7.0376836292E-2F;
  p = p * x - 1.1514610310E-1F;
  p = p * x + 1.1676998740E-1F;
  p = p * x - 1.2420140846E-1F;
  p = p * x + 1.4249322787E-1F;
  p = p * x - 1.6668057665E-1F;
  p = p * x + 2.0000714765E-1F;
  p = p * x - 2.4999993993E-1F;
  p = p * x + 3.3333331174E-1F;
  const auto e = static_cast<float>(exponent);
  float y = p * x * z;
  y += -2.12194440E-4F * e;  // ln 2 in two parts keeps e * ln 2 exact in its high part
  y += -0.5F * z;
  return (x + y) + 0.693359375F * e;
}

struct SinCos {
  float sin;
  float cos;
};

// sin and cos of 2*pi*turn, for turn in [0, 1).
inline SinCos sincos_turn(float turn) {
  // The nearest quarter turn q leaves |x| <= pi/4; 4 * turn - q is exact. quarters >= 0, so
  // truncating quarters + 1/2 rounds, and in every vector width alike (unlike lround).
  const float quarters = 4.0F * turn;
  const auto q =
      static_cast<std::int32_t>(quarters + 0.5F);  // NOLINT(bugprone-incorrect-roundings)
  const float x = (quarters - static_cast<float>(q)) * (std::numbers::pi_v<float> / 2);
  const float z = x * x;
  const float s = ((-1.9515295891E-4F * z + 8.3321608736E-3F) * z - 1.6666654611E-1F) * z * x + x;
  const float c =
      ((2.443315711809948E-5F * z - 1.388731625493765E-3F) * z + 4.166664568298827E-2F) * z * z -
      0.5F * z + 1.0F;
  // sin(q pi/2 + x) and cos(q pi/2 + x) are +-sin x or +-cos x by quadrant.
  const bool odd = (q & 1) != 0;
  const float a = odd ? c : s;
  const float b = odd ? s : c;
  const std::uint32_t sin_sign = static_cast<std::uint32_t>(q & 2) << 30;
  const std::uint32_t cos_sign = static_cast<std::uint32_t>((q + 1) & 2) << 30;
  return {std::bit_cast<float>(std::bit_cast<std::uint32_t>(a) ^ sin_sign),
          std::bit_cast<float>(std::bit_cast<std::uint32_t>(b) ^ cos_sign)};
}

// ln(1 - p) for p in [0, 1), in double precision. glibc's log1p has an FMA variant picked by
// CPU, which may differ in the last bit; this sums a fixed series instead.
inline double log_one_minus(double p) {
  // ln m = 2 atanh(s) with s = (m - 1) / (m + 1); |s| <= 1/3 keeps the series short.
  int exponent = 0;
  double s = -p / (2 - p);
  if (p > 0.5) {
    double m = std::frexp(1 - p, &exponent);  // 1 - p is exact here; m in [0.5, 1)
    if (m < std::numbers::sqrt2 / 2) {
      m += m;
      --exponent;
    }
    s = (m - 1) / (m + 1);
  }
  const double s2 = s * s;
  double series = 0;
  for (int k = 24; k >= 0; --k)  // (1/9)^25 is below double precision
    series = series * s2 + 1.0 / (2 * k + 1);
  return 2 * s * series + exponent * std::numbers::ln2;
}

}  // namespace esp::evolution::unit_math
