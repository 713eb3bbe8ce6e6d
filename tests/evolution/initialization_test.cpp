#include "evolution/initialization.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "evolution/random.h"

namespace esp::evolution {
namespace {

struct Moments {
  double mean = 0;
  double stddev = 0;
  float min = 0;
  float max = 0;
};

Moments moments_of(std::span<const float> values) {
  Moments m{.min = values[0], .max = values[0]};
  for (float v : values) {
    m.mean += v;
    m.min = std::min(m.min, v);
    m.max = std::max(m.max, v);
  }
  m.mean /= static_cast<double>(values.size());
  for (float v : values)
    m.stddev += (v - m.mean) * (v - m.mean);
  m.stddev = std::sqrt(m.stddev / static_cast<double>(values.size()));
  return m;
}

// One wide layer without bias, so the genome is exactly one kernel.
NetworkShape one_kernel(std::size_t inputs, std::size_t outputs) {
  return NetworkShape({{.inputs = inputs, .outputs = outputs, .use_bias = false}}, 0);
}

std::vector<float> draw(const NetworkShape& shape, Initialization distribution, float range) {
  std::vector<float> genome(shape.weight_count());
  RandomStream random(7);
  initialize_genome(shape, distribution, range, random, genome);
  return genome;
}

TEST(Initialization, UniformStaysWithinTheRange) {
  auto values = draw(one_kernel(500, 400), Initialization::kUniform, 0.5F);
  auto m = moments_of(values);
  EXPECT_GE(m.min, -0.5F);
  EXPECT_LT(m.max, 0.5F);
  EXPECT_NEAR(m.mean, 0.0, 0.005);
  EXPECT_NEAR(m.stddev, 0.5 / std::sqrt(3.0), 0.005);
}

TEST(Initialization, NormalHasTheRangeAsStandardDeviation) {
  auto m = moments_of(draw(one_kernel(500, 400), Initialization::kNormal, 2.0F));
  EXPECT_NEAR(m.mean, 0.0, 0.01);
  EXPECT_NEAR(m.stddev, 2.0, 0.01);
}

TEST(Initialization, CauchyIsStandardCauchyScaledByTheRange) {
  auto values = draw(one_kernel(500, 400), Initialization::kCauchy, 1.0F);
  // Quartiles of the standard Cauchy are -1 and 1, and its tails are heavy:
  // P(|x| > 10) = 1 - 2 atan(10) / pi = 0.0635, where a normal would give none.
  std::vector<float> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_NEAR(sorted[sorted.size() / 4], -1.0F, 0.02);
  EXPECT_NEAR(sorted[3 * sorted.size() / 4], 1.0F, 0.02);
  const auto far =
      std::count_if(values.begin(), values.end(), [](float v) { return std::abs(v) > 10; });
  EXPECT_NEAR(double(far) / double(values.size()), 0.0635, 0.003);
  EXPECT_TRUE(std::all_of(values.begin(), values.end(), [](float v) { return std::isfinite(v); }));
}

TEST(Initialization, XavierUsesFanInAndFanOut) {
  auto m = moments_of(draw(one_kernel(600, 200), Initialization::kXavier, 1.0F));
  float limit = std::sqrt(6.0F / 800.0F);
  EXPECT_GE(m.min, -limit);
  EXPECT_LT(m.max, limit);
  EXPECT_NEAR(m.stddev, limit / std::sqrt(3.0), 0.001);
}

TEST(Initialization, HeUsesFanIn) {
  auto m = moments_of(draw(one_kernel(800, 300), Initialization::kHe, 1.0F));
  EXPECT_NEAR(m.stddev, std::sqrt(2.0 / 800.0), 0.001);
}

// Columns orthonormal (scaled by the range) for tall kernels, rows for wide ones.
void expect_orthogonal(std::size_t inputs, std::size_t outputs, float gain) {
  auto k = draw(one_kernel(inputs, outputs), Initialization::kOrthogonal, gain);
  bool tall = inputs >= outputs;
  std::size_t vectors = tall ? outputs : inputs;
  std::size_t length = tall ? inputs : outputs;
  auto at = [&](std::size_t v, std::size_t e) {
    return tall ? k[e * outputs + v] : k[v * outputs + e];
  };
  for (std::size_t a = 0; a < vectors; ++a) {
    for (std::size_t b = 0; b < vectors; ++b) {
      double dot = 0;
      for (std::size_t e = 0; e < length; ++e)
        dot += double(at(a, e)) * at(b, e);
      EXPECT_NEAR(dot, a == b ? gain * gain : 0.0, 1e-4) << a << "," << b;
    }
  }
}

TEST(Initialization, OrthogonalTallKernelHasOrthonormalColumns) {
  expect_orthogonal(12, 5, 1.0F);
}
TEST(Initialization, OrthogonalWideKernelHasOrthonormalRows) {
  expect_orthogonal(4, 9, 2.0F);
}
TEST(Initialization, OrthogonalSquareKernel) {
  expect_orthogonal(16, 16, 0.5F);
}
TEST(Initialization, OrthogonalKernelOfAHundredNeurons) {
  expect_orthogonal(99, 100, 1.0F);
}

TEST(Initialization, BiasesAreSmallButNotZero) {
  NetworkShape shape({{.inputs = 3, .outputs = 2000, .use_bias = true}}, 0);
  auto genome = draw(shape, Initialization::kOrthogonal, 1.0F);
  auto m = moments_of(std::span<const float>(genome).subspan(shape.layers()[0].bias_offset()));
  EXPECT_NEAR(m.stddev, 0.1, 0.01);
  EXPECT_NE(m.min, 0.0F);
}

TEST(Initialization, SameStreamSameGenome) {
  auto shape = one_kernel(10, 10);
  EXPECT_EQ(draw(shape, Initialization::kOrthogonal, 1.0F),
            draw(shape, Initialization::kOrthogonal, 1.0F));
}

}  // namespace
}  // namespace esp::evolution
