// The prescriptor's layer shapes and where each layer's weights sit in a genome.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "evolution/params.h"

namespace esp::evolution {

// One dense layer. Its weights start at `offset` in the genome: the kernel row-major
// (inputs x outputs, as Keras stores it), then `outputs` biases when use_bias.
struct LayerShape {
  std::size_t inputs = 0;
  std::size_t outputs = 0;
  bool use_bias = true;
  Activation activation = Activation::kLinear;
  std::size_t offset = 0;

  std::size_t kernel_size() const { return inputs * outputs; }
  std::size_t bias_offset() const { return offset + kernel_size(); }
  std::size_t weight_count() const { return kernel_size() + (use_bias ? outputs : 0); }
};

// Hidden layers form a chain; every output is a head reading the last hidden layer
// (or the inputs when there is none). Outputs are laid out head after head.
class NetworkShape {
 public:
  explicit NetworkShape(const NetworkSpec& spec);
  NetworkShape(std::vector<LayerShape> layers, std::size_t hidden_count);

  std::span<const LayerShape> layers() const { return layers_; }
  std::span<const LayerShape> hidden_layers() const { return {layers_.data(), hidden_count_}; }
  std::span<const LayerShape> heads() const {
    return std::span<const LayerShape>(layers_).subspan(hidden_count_);
  }
  std::size_t input_size() const { return input_size_; }
  std::size_t output_size() const { return output_size_; }
  std::size_t weight_count() const { return weight_count_; }

 private:
  void place_layers();

  std::vector<LayerShape> layers_;
  std::size_t hidden_count_ = 0;
  std::size_t input_size_ = 0;
  std::size_t output_size_ = 0;
  std::size_t weight_count_ = 0;
};

}  // namespace esp::evolution
