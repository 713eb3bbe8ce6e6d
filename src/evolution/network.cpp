#include "evolution/network.h"

#include <stdexcept>

namespace esp::evolution {

NetworkShape::NetworkShape(const NetworkSpec& spec) : hidden_count_(spec.hidden_layers.size()) {
  std::size_t previous = 0;
  for (const auto& input : spec.inputs)
    previous += input.size;
  for (const auto& layer : spec.hidden_layers) {
    layers_.push_back({.inputs = previous,
                       .outputs = layer.units,
                       .use_bias = layer.use_bias,
                       .activation = layer.activation});
    previous = layer.units;
  }
  for (const auto& output : spec.outputs) {
    layers_.push_back({.inputs = previous,
                       .outputs = output.size,
                       .use_bias = output.use_bias,
                       .activation = output.activation});
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
  place_layers();
}

void NetworkShape::place_layers() {
  input_size_ = layers_.empty() ? 0 : layers_.front().inputs;
  std::size_t offset = 0;
  output_size_ = 0;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    layers_[i].offset = offset;
    offset += layers_[i].weight_count();
    if (i >= hidden_count_) output_size_ += layers_[i].outputs;
  }
  weight_count_ = offset;
}

}  // namespace esp::evolution
