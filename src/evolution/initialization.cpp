#include "evolution/initialization.h"

#include <cmath>
#include <vector>

namespace esp::evolution {
namespace {

// Orthonormalises the columns of a rows x cols matrix (rows >= cols, row-major) by
// modified Gram-Schmidt; a column that collapses is redrawn.
void orthonormalize_columns(std::vector<double>& m, std::size_t rows, std::size_t cols,
                            RandomStream& random) {
  std::vector<float> redraw(rows);
  for (std::size_t c = 0; c < cols; ++c) {
    for (int attempt = 0;; ++attempt) {
      for (std::size_t p = 0; p < c; ++p) {
        double dot = 0;
        for (std::size_t r = 0; r < rows; ++r)
          dot += m[r * cols + c] * m[r * cols + p];
        for (std::size_t r = 0; r < rows; ++r)
          m[r * cols + c] -= dot * m[r * cols + p];
      }
      double norm = 0;
      for (std::size_t r = 0; r < rows; ++r)
        norm += m[r * cols + c] * m[r * cols + c];
      norm = std::sqrt(norm);
      if (norm > 1e-6 || attempt == 8) {
        for (std::size_t r = 0; r < rows; ++r)
          m[r * cols + c] /= (norm > 0 ? norm : 1.0);
        break;
      }
      random.fill_normal(redraw);
      for (std::size_t r = 0; r < rows; ++r)
        m[r * cols + c] = redraw[r];
    }
  }
}

// A fan_in x fan_out kernel whose columns (or rows, when wider than tall) are orthonormal.
void orthogonal(std::span<float> kernel, std::size_t fan_in, std::size_t fan_out, float gain,
                RandomStream& random) {
  bool tall = fan_in >= fan_out;
  std::size_t rows = tall ? fan_in : fan_out;
  std::size_t cols = tall ? fan_out : fan_in;
  std::vector<float> draws(rows * cols);
  random.fill_normal(draws);
  std::vector<double> m(draws.begin(), draws.end());
  orthonormalize_columns(m, rows, cols, random);
  for (std::size_t i = 0; i < fan_in; ++i) {
    for (std::size_t j = 0; j < fan_out; ++j) {
      double value = tall ? m[i * cols + j] : m[j * cols + i];
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
