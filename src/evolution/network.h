// The prescriptor's layer shapes and where each layer's weights sit in a genome. The
// topology is the original ESP service's Keras model (docs/interpretation.md):
//   each input -> a Dense named after it, with the first hidden layer's units and bias
//   (the input branches) -> summed ("add", with several inputs) -> the first hidden
//   layer's activation -> every further hidden layer -> every output a Dense head on
//   the last of them.
// Without a first hidden layer (none, or one of 0 units) the heads and any further
// hidden layers read the inputs concatenated.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "evolution/params.h"

namespace esp::evolution {

// One Dense layer. Its weights start at `offset` in the genome: the kernel row-major
// (inputs x outputs, as Keras stores it), then `outputs` biases when use_bias.
struct LayerShape {
  std::size_t inputs = 0;
  std::size_t outputs = 0;
  bool use_bias = true;
  // For an input branch: the first hidden layer's activation, applied after the sum.
  Activation activation = Activation::kLinear;
  std::size_t offset = 0;
  std::string name;             // the Keras layer name
  std::size_t input_begin = 0;  // for an input branch: where its input starts in the context

  std::size_t kernel_size() const { return inputs * outputs; }
  std::size_t bias_offset() const { return offset + kernel_size(); }
  std::size_t weight_count() const { return kernel_size() + (use_bias ? outputs : 0); }
};

class NetworkShape {
 public:
  explicit NetworkShape(const NetworkSpec& spec);
  // A chain of `hidden_count` hidden layers and then heads, without input branches.
  NetworkShape(std::vector<LayerShape> layers, std::size_t hidden_count);

  // Every layer in genome order: branches, further hidden layers, heads.
  std::span<const LayerShape> layers() const { return layers_; }
  std::span<const LayerShape> branches() const { return {layers_.data(), branch_count_}; }
  std::span<const LayerShape> hidden_layers() const {
    return std::span<const LayerShape>(layers_).subspan(branch_count_, hidden_count_);
  }
  std::span<const LayerShape> heads() const {
    return std::span<const LayerShape>(layers_).subspan(branch_count_ + hidden_count_);
  }
  // The first hidden layer's activation, applied to the branches' sum.
  Activation first_activation() const { return first_activation_; }
  std::size_t input_size() const { return input_size_; }
  std::size_t output_size() const { return output_size_; }
  std::size_t weight_count() const { return weight_count_; }

 private:
  void place_layers();

  std::vector<LayerShape> layers_;
  std::size_t branch_count_ = 0;
  std::size_t hidden_count_ = 0;
  Activation first_activation_ = Activation::kLinear;
  std::size_t input_size_ = 0;
  std::size_t output_size_ = 0;
  std::size_t weight_count_ = 0;
};

}  // namespace esp::evolution
