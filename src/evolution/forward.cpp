#include "evolution/forward.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace esp::evolution {
namespace {

void dense(const LayerShape& layer, std::span<const float> genome, std::span<const float> in,
           std::span<float> out) {
  const float* kernel = genome.data() + layer.offset;
  if (layer.use_bias) {
    std::copy_n(genome.data() + layer.bias_offset(), layer.outputs, out.data());
  } else {
    std::fill_n(out.data(), layer.outputs, 0.0F);
  }
  for (std::size_t i = 0; i < layer.inputs; ++i) {
    const float x = in[i];
    const float* row = kernel + i * layer.outputs;
    for (std::size_t j = 0; j < layer.outputs; ++j)
      out[j] += x * row[j];
  }
}

void activate(Activation activation, std::span<float> values) {
  switch (activation) {
    case Activation::kLinear:
      return;
    case Activation::kRelu:
      for (float& v : values)
        v = std::max(v, 0.0F);
      return;
    case Activation::kTanh:
      for (float& v : values)
        v = std::tanh(v);
      return;
    case Activation::kSigmoid:
      for (float& v : values)
        v = 1.0F / (1.0F + std::exp(-v));
      return;
    case Activation::kSoftmax: {
      float peak = *std::max_element(values.begin(), values.end());
      float sum = 0;
      for (float& v : values)
        sum += (v = std::exp(v - peak));
      for (float& v : values)
        v /= sum;
      return;
    }
  }
}

}  // namespace

ForwardPass::ForwardPass(NetworkShape shape) : shape_(std::move(shape)) {
  std::size_t widest = shape_.input_size();
  for (const auto& layer : shape_.layers())
    widest = std::max(widest, layer.outputs);
  current_.resize(widest);
  next_.resize(widest);
}

void ForwardPass::run(std::span<const float> genome, std::span<const float> context,
                      std::span<float> actions) {
  if (genome.size() != shape_.weight_count() || context.size() != shape_.input_size() ||
      actions.size() != shape_.output_size()) {
    throw std::invalid_argument("forward pass: genome, context or action size does not match");
  }
  std::copy(context.begin(), context.end(), current_.begin());
  std::span<const float> features{current_.data(), context.size()};
  if (!shape_.branches().empty()) {
    // Each input's own Dense, summed, then the first hidden layer's activation.
    const std::size_t units = shape_.branches().front().outputs;
    std::span<float> sum{next_.data(), units};
    std::fill(sum.begin(), sum.end(), 0.0F);
    branch_.resize(units);
    for (const auto& branch : shape_.branches()) {
      dense(branch, genome, context.subspan(branch.input_begin, branch.inputs), branch_);
      for (std::size_t j = 0; j < units; ++j)
        sum[j] += branch_[j];
    }
    activate(shape_.first_activation(), sum);
    std::swap(current_, next_);
    features = {current_.data(), units};
  }
  for (const auto& layer : shape_.hidden_layers()) {
    std::span<float> out{next_.data(), layer.outputs};
    dense(layer, genome, features, out);
    activate(layer.activation, out);
    std::swap(current_, next_);
    features = {current_.data(), layer.outputs};
  }
  std::size_t written = 0;
  for (const auto& head : shape_.heads()) {
    auto out = actions.subspan(written, head.outputs);
    dense(head, genome, features, out);
    activate(head.activation, out);
    written += head.outputs;
  }
}

std::vector<float> ForwardPass::run(std::span<const float> genome, std::span<const float> context) {
  std::vector<float> actions(shape_.output_size());
  run(genome, context, actions);
  return actions;
}

}  // namespace esp::evolution
