// Runs a candidate network on one context vector, so clients and tests can see
// what a genome prescribes.
#pragma once

#include <span>
#include <vector>

#include "evolution/network.h"

namespace esp::evolution {

// Holds scratch space for one network shape; reuse it across calls to avoid allocations.
// Not thread-safe: use one per thread.
class ForwardPass {
 public:
  explicit ForwardPass(NetworkShape shape);

  const NetworkShape& shape() const { return shape_; }

  // `context` has shape().input_size() values (inputs concatenated in order); `actions`
  // receives shape().output_size() values, head after head (softmax per head).
  void run(std::span<const float> genome, std::span<const float> context, std::span<float> actions);

  std::vector<float> run(std::span<const float> genome, std::span<const float> context);

 private:
  NetworkShape shape_;
  std::vector<float> current_;
  std::vector<float> next_;
  std::vector<float> branch_;  // one input branch's output before the sum
};

}  // namespace esp::evolution
