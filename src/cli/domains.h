// The built-in example domains `esp run` evaluates candidates in, each with an optimum
// known in advance so a run's result can be checked: a function to maximise given a
// context, two objectives with a known Pareto front, CartPole, double pole balancing with
// and without velocities, and the sphere, Rosenbrock and Rastrigin test functions.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "evolution/forward.h"
#include "evolution/ranking.h"

namespace esp::cli {

// A held-out check of the final result against the domain's known optimum.
struct Validation {
  std::string measure;  // what `value` is, in words
  double value = 0;
  double target = 0;
  bool met = false;
};

class Domain {
 public:
  virtual ~Domain() = default;
  virtual std::string_view name() const = 0;
  virtual std::string_view description() const = 0;
  // Why this network cannot act in the domain (wrong input or output size), if it cannot.
  virtual std::optional<std::string> check_network(const evolution::NetworkShape& shape) const = 0;
  // The metrics of one candidate; `generation` varies the episodes where the domain is
  // stochastic. Thread-safe: `pass` is the caller's own.
  virtual evolution::MetricValues evaluate(evolution::ForwardPass& pass,
                                           std::span<const float> genome, int generation) const = 0;
  // Checks the final first front (best first) on cases never used in evolution.
  virtual Validation validate(evolution::ForwardPass& pass,
                              std::span<const std::span<const float>> front) const = 0;
};

std::vector<std::unique_ptr<Domain>> all_domains();
std::unique_ptr<Domain> find_domain(std::string_view name);

}  // namespace esp::cli
