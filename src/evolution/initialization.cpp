#include "evolution/initialization.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <vector>

#include "evolution/vector_clones.h"

namespace esp::evolution {
namespace {

// a[i] * b[i] summed in eight fixed lanes: vectorisable, and the same bits at every width.
[[gnu::always_inline]] inline double dot(const double* a, const double* b, std::size_t n) {
  constexpr std::size_t kLanes = 8;
  std::array<double, kLanes> lanes{};
  std::size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (std::size_t lane = 0; lane < kLanes; ++lane)
      lanes[lane] += a[i + lane] * b[i + lane];
  }
  double sum = 0;
  for (; i < n; ++i)
    sum += a[i] * b[i];
  for (double lane : lanes)
    sum += lane;
  return sum;
}

// Orthonormalises vectors of `length` doubles stored one after another, by modified
// Gram-Schmidt; a vector that collapses is redrawn.
ESP_VECTOR_CLONES
void orthonormalize(std::span<double> vectors, std::size_t length, RandomStream& random) {
  std::vector<float> redraw(length);
  for (std::size_t c = 0; c * length < vectors.size(); ++c) {
    double* v = vectors.data() + c * length;
    for (int attempt = 0;; ++attempt) {
      for (std::size_t p = 0; p < c; ++p) {
        const double* u = vectors.data() + p * length;
        const double projection = dot(v, u, length);
        for (std::size_t r = 0; r < length; ++r)
          v[r] -= projection * u[r];
      }
      const double norm = std::sqrt(dot(v, v, length));
      if (norm > 1e-6 || attempt == 8) {
        const double divisor = norm > 0 ? norm : 1.0;
        for (std::size_t r = 0; r < length; ++r)
          v[r] /= divisor;
        break;
      }
      random.fill_normal(redraw);
      std::copy(redraw.begin(), redraw.end(), v);
    }
  }
}

// A fan_in x fan_out kernel whose columns (or rows, when wider than tall) are orthonormal.
void orthogonal(std::span<float> kernel, std::size_t fan_in, std::size_t fan_out, float gain,
                RandomStream& random) {
  const bool tall = fan_in >= fan_out;
  const std::size_t length = tall ? fan_in : fan_out;
  std::vector<float> draws(fan_in * fan_out);
  random.fill_normal(draws);
  std::vector<double> vectors(draws.begin(), draws.end());
  orthonormalize(vectors, length, random);
  for (std::size_t i = 0; i < fan_in; ++i) {
    for (std::size_t j = 0; j < fan_out; ++j) {
      const double value = tall ? vectors[j * length + i] : vectors[i * length + j];
      kernel[i * fan_out + j] = static_cast<float>(gain * value);
    }
  }
}

void scale(std::span<float> values, float factor) {
  for (float& v : values)
    v *= factor;
}

void initialize_kernel(const LayerShape& layer, Initialization distribution, float range,
                       RandomStream& random, std::span<float> kernel) {
  auto fan_in = static_cast<float>(layer.inputs);
  auto fan_out = static_cast<float>(layer.outputs);
  switch (distribution) {
    case Initialization::kUniform:
      random.fill_uniform(kernel, -range, range);
      return;
    case Initialization::kNormal:
      random.fill_normal(kernel);
      scale(kernel, range);
      return;
    case Initialization::kCauchy: {
      // A ratio of two independent standard normals is standard Cauchy.
      random.fill_normal(kernel);
      std::vector<float> denominators(kernel.size());
      random.fill_normal(denominators);
      for (std::size_t i = 0; i < kernel.size(); ++i) {
        const float below = denominators[i] == 0.0F ? 1e-30F : denominators[i];
        constexpr float kLargest = std::numeric_limits<float>::max();  // genomes stay finite
        kernel[i] = std::clamp(range * (kernel[i] / below), -kLargest, kLargest);
      }
      return;
    }
    case Initialization::kXavier: {
      float limit = range * std::sqrt(6.0F / (fan_in + fan_out));
      random.fill_uniform(kernel, -limit, limit);
      return;
    }
    case Initialization::kHe:
      random.fill_normal(kernel);
      scale(kernel, range * std::sqrt(2.0F / fan_in));
      return;
    case Initialization::kOrthogonal:
      orthogonal(kernel, layer.inputs, layer.outputs, range, random);
      return;
  }
}

}  // namespace

void initialize_genome(const NetworkShape& shape, Initialization distribution, float range,
                       RandomStream& random, std::span<float> genome) {
  for (const auto& layer : shape.layers()) {
    initialize_kernel(layer, distribution, range, random,
                      genome.subspan(layer.offset, layer.kernel_size()));
    if (layer.use_bias) {
      auto bias = genome.subspan(layer.bias_offset(), layer.outputs);
      random.fill_normal(bias);
      scale(bias, 0.1F * range);
    }
  }
}

}  // namespace esp::evolution
