#include "evolution/network.h"

#include <stdexcept>

namespace esp::evolution {

NetworkShape::NetworkShape(const NetworkSpec& spec) {
  for (const auto& input : spec.inputs)
    input_size_ += input.size;
  std::size_t previous = input_size_;
  std::size_t first_chained = 0;
  if (!spec.hidden_layers.empty()) {
    const LayerSpec& first = spec.hidden_layers.front();
    first_chained = 1;
    if (first.units > 0) {
      std::size_t begin = 0;
      for (const auto& input : spec.inputs) {
        layers_.push_back({.inputs = input.size,
                           .outputs = first.units,
                           .use_bias = first.use_bias,
                           .activation = first.activation,
                           .name = input.name,
                           .input_begin = begin});
        begin += input.size;
      }
      branch_count_ = spec.inputs.size();
      first_activation_ = first.activation;
      previous = first.units;
    }
  }
  for (std::size_t i = first_chained; i < spec.hidden_layers.size(); ++i) {
    const LayerSpec& layer = spec.hidden_layers[i];
    layers_.push_back({.inputs = previous,
                       .outputs = layer.units,
                       .use_bias = layer.use_bias,
                       .activation = layer.activation,
                       .name = layer.name});
    previous = layer.units;
    ++hidden_count_;
  }
  for (const auto& output : spec.outputs) {
    layers_.push_back({.inputs = previous,
                       .outputs = output.size,
                       .use_bias = output.use_bias,
                       .activation = output.activation,
                       .name = output.name});
  }
  place_layers();
}

NetworkShape::NetworkShape(std::vector<LayerShape> layers, std::size_t hidden_count)
    : layers_(std::move(layers)), hidden_count_(hidden_count) {
  if (hidden_count_ >= layers_.size()) throw std::invalid_argument("network needs an output layer");
  for (std::size_t i = 1; i < layers_.size(); ++i) {
    std::size_t expected =
        i <= hidden_count_
            ? layers_[i - 1].outputs
            : (hidden_count_ == 0 ? layers_[0].inputs : layers_[hidden_count_ - 1].outputs);
    if (layers_[i].inputs != expected) throw std::invalid_argument("layer sizes do not chain");
  }
  input_size_ = layers_.front().inputs;
  place_layers();
}

void NetworkShape::place_layers() {
  std::size_t offset = 0;
  output_size_ = 0;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    layers_[i].offset = offset;
    offset += layers_[i].weight_count();
    if (i >= branch_count_ + hidden_count_) output_size_ += layers_[i].outputs;
  }
  weight_count_ = offset;
}

}  // namespace esp::evolution
