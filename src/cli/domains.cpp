#include "cli/domains.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <random>

#include "cli/pole_balancing.h"

namespace esp::cli {
namespace {

using evolution::ForwardPass;
using evolution::MetricValues;
using evolution::NetworkShape;

std::optional<std::string> expect_sizes(const NetworkShape& shape, std::size_t inputs,
                                        std::size_t outputs, std::string_view domain) {
  if (shape.input_size() == inputs && shape.output_size() == outputs) return std::nullopt;
  return fmt::format(
      "the {} domain needs {} context inputs and {} outputs; the network has {} and {}", domain,
      inputs, outputs, shape.input_size(), shape.output_size());
}

// Prescribe x in [-1, 1] for a context c in [-1, 1]^2 to maximise 1 - (x - g(c))^2,
// whose optimum, 1, is reached at x = g(c).
class FunctionDomain final : public Domain {
 public:
  std::string_view name() const override { return "function"; }
  std::string_view description() const override {
    return "prescribe x for a context c in [-1,1]^2 to maximise 1 - (x - g(c))^2, with "
           "g(c) = 0.5 c0 - 0.25 c1 + 0.1; metric 'score', optimum 1";
  }
  std::optional<std::string> check_network(const NetworkShape& shape) const override {
    return expect_sizes(shape, 2, 1, name());
  }
  MetricValues evaluate(ForwardPass& pass, std::span<const float> genome, int) const override {
    double total = 0;
    int count = 0;
    for (float c0 = -1; c0 <= 1.001F; c0 += 0.25F) {
      for (float c1 = -1; c1 <= 1.001F; c1 += 0.25F) {
        total += score(pass, genome, c0, c1);
        ++count;
      }
    }
    return {{"score", total / count}};
  }
  Validation validate(ForwardPass& pass,
                      std::span<const std::span<const float>> front) const override {
    std::mt19937_64 random(2026);
    std::uniform_real_distribution<float> uniform(-1, 1);
    double total = 0;
    constexpr int kCases = 1000;
    for (int i = 0; i < kCases; ++i) {
      const float c0 = uniform(random);
      total += score(pass, front.front(), c0, uniform(random));
    }
    const double mean = total / kCases;
    return {"mean score of the best candidate on 1000 unseen contexts (optimum 1)", mean, 0.99,
            mean >= 0.99};
  }

 private:
  static double score(ForwardPass& pass, std::span<const float> genome, float c0, float c1) {
    const std::array<float, 2> context{c0, c1};
    std::array<float, 1> x{};
    pass.run(genome, context, x);
    const double target = 0.5 * c0 - 0.25 * c1 + 0.1;
    return 1.0 - (x[0] - target) * (x[0] - target);
  }
};

// Schaffer's problem: x = 4 a - 1 from one output a in [0, 1]; minimise f1 = x^2 and
// f2 = (x - 2)^2. Every x in [0, 2] is Pareto-optimal.
class ParetoDomain final : public Domain {
 public:
  std::string_view name() const override { return "pareto"; }
  std::string_view description() const override {
    return "two objectives, minimise f1 = x^2 and f2 = (x-2)^2 (Schaffer); the Pareto front "
           "is x in [0,2]; metrics 'f1' and 'f2'";
  }
  std::optional<std::string> check_network(const NetworkShape& shape) const override {
    return expect_sizes(shape, 1, 1, name());
  }
  MetricValues evaluate(ForwardPass& pass, std::span<const float> genome, int) const override {
    const double x = decide(pass, genome);
    return {{"f1", x * x}, {"f2", (x - 2) * (x - 2)}};
  }
  Validation validate(ForwardPass& pass,
                      std::span<const std::span<const float>> front) const override {
    // Hypervolume against the reference point (4, 4), as a share of the true front's.
    std::vector<std::pair<double, double>> points;
    for (auto genome : front) {
      const double x = decide(pass, genome);
      points.emplace_back(x * x, (x - 2) * (x - 2));
    }
    std::vector<std::pair<double, double>> ideal;
    for (int i = 0; i <= 2000; ++i) {
      const double x = 2.0 * i / 2000;
      ideal.emplace_back(x * x, (x - 2) * (x - 2));
    }
    const double share = hypervolume(points) / hypervolume(ideal);
    return {"hypervolume of the final front as a share of the true front's (reference 4,4)", share,
            0.9, share >= 0.9};
  }

 private:
  static double decide(ForwardPass& pass, std::span<const float> genome) {
    const std::array<float, 1> context{1};
    std::array<float, 1> action{};
    pass.run(genome, context, action);
    return 4.0 * action[0] - 1.0;
  }
  static double hypervolume(std::vector<std::pair<double, double>> points) {
    std::sort(points.begin(), points.end());
    double volume = 0;
    double ceiling = 4;
    for (const auto& [f1, f2] : points) {
      if (f1 >= 4 || f2 >= ceiling) continue;
      volume += (4 - f1) * (ceiling - f2);
      ceiling = f2;
    }
    return volume;
  }
};

// CartPole as Barto, Sutton and Anderson (1983) defined it and Gym's v0 runs it:
// balance for up to 200 steps of 20 ms; a run fails when the pole tilts over 12 degrees
// or the cart leaves +-2.4 m. Solved: at least 195 steps on average over 100 episodes.
class CartPoleDomain final : public Domain {
 public:
  std::string_view name() const override { return "cartpole"; }
  std::string_view description() const override {
    return "CartPole (classic dynamics, 200 steps): 4 state inputs, 2 outputs (push left, "
           "push right); metric 'steps' balanced, averaged over 5 episodes; solved at >= 195 "
           "over 100 episodes";
  }
  std::optional<std::string> check_network(const NetworkShape& shape) const override {
    return expect_sizes(shape, 4, 2, name());
  }
  MetricValues evaluate(ForwardPass& pass, std::span<const float> genome,
                        int generation) const override {
    double total = 0;
    constexpr int kEpisodes = 5;
    for (int episode = 0; episode < kEpisodes; ++episode)
      total += balance(pass, genome, static_cast<unsigned>(generation * 7919 + episode));
    return {{"steps", total / kEpisodes}};
  }
  Validation validate(ForwardPass& pass,
                      std::span<const std::span<const float>> front) const override {
    double total = 0;
    for (unsigned episode = 0; episode < 100; ++episode)
      total += balance(pass, front.front(), 1'000'000 + episode);
    const double mean = total / 100;
    return {"mean steps balanced by the best candidate over 100 unseen episodes", mean, 195,
            mean >= 195};
  }

 private:
  static int balance(ForwardPass& pass, std::span<const float> genome, unsigned seed) {
    constexpr double kGravity = 9.8, kCartMass = 1.0, kPoleMass = 0.1, kHalfLength = 0.5;
    constexpr double kForce = 10.0, kTau = 0.02;
    constexpr double kTotalMass = kCartMass + kPoleMass, kPoleMoment = kPoleMass * kHalfLength;
    const double kThetaLimit = 12 * 2 * M_PI / 360;
    std::mt19937 random(seed);
    std::uniform_real_distribution<double> start(-0.05, 0.05);
    double x = start(random), x_dot = start(random), theta = start(random),
           theta_dot = start(random);
    std::array<float, 2> action{};
    for (int step = 0; step < 200; ++step) {
      const std::array<float, 4> state{static_cast<float>(x / 2.4), static_cast<float>(x_dot),
                                       static_cast<float>(theta / kThetaLimit),
                                       static_cast<float>(theta_dot)};
      pass.run(genome, state, action);
      const double force = action[1] > action[0] ? kForce : -kForce;
      const double cos_theta = std::cos(theta), sin_theta = std::sin(theta);
      const double temp = (force + kPoleMoment * theta_dot * theta_dot * sin_theta) / kTotalMass;
      const double theta_acc =
          (kGravity * sin_theta - cos_theta * temp) /
          (kHalfLength * (4.0 / 3.0 - kPoleMass * cos_theta * cos_theta / kTotalMass));
      const double x_acc = temp - kPoleMoment * theta_acc * cos_theta / kTotalMass;
      x += kTau * x_dot;
      x_dot += kTau * x_acc;
      theta += kTau * theta_dot;
      theta_dot += kTau * theta_acc;
      if (std::abs(x) > 2.4 || std::abs(theta) > kThetaLimit) return step + 1;
    }
    return 200;
  }
};

// The network's action for the poles: its one output in [0, 1], pushed left below 0.5.
double action_of(ForwardPass& pass, std::span<const float> genome,
                 const std::array<float, 6>& inputs) {
  std::array<float, 1> out{};
  pass.run(genome, inputs, out);
  return std::clamp(static_cast<double>(out[0]), 0.0, 1.0);
}

constexpr int kSolvedSteps = 100'000;

// Double pole balancing with velocities (Markovian): 6 scaled state inputs, the force as
// one output; solved at 100,000 steps (half an hour of simulated time).
class DoublePoleDomain final : public Domain {
 public:
  std::string_view name() const override { return "double-pole"; }
  std::string_view description() const override {
    return "double pole balancing with velocities (standard physics, long pole at 4 degrees): "
           "6 state inputs, 1 output (the force, 0.5 = none); metric 'steps' balanced, solved "
           "at 100,000";
  }
  std::optional<std::string> check_network(const NetworkShape& shape) const override {
    return expect_sizes(shape, 6, 1, name());
  }
  MetricValues evaluate(ForwardPass& pass, std::span<const float> genome, int) const override {
    return {{"steps", steps(pass, genome)}};
  }
  Validation validate(ForwardPass& pass,
                      std::span<const std::span<const float>> front) const override {
    const double balanced = steps(pass, front.front());
    return {"steps the best candidate balances from the standard start (solved at 100,000)",
            balanced, kSolvedSteps, balanced >= kSolvedSteps};
  }

 private:
  static double steps(ForwardPass& pass, std::span<const float> genome) {
    return poles::balance(poles::standard_start(), kSolvedSteps, [&](const poles::State& s) {
      // The usual scaling (Stanley & Miikkulainen 2002).
      return action_of(pass, genome,
                       {static_cast<float>(s[0] / 4.8), static_cast<float>(s[1] / 2),
                        static_cast<float>(s[2] / 0.52), static_cast<float>(s[3] / 2),
                        static_cast<float>(s[4] / 0.52), static_cast<float>(s[5] / 2)});
    });
  }
};

// Without velocities (non-Markovian): the network sees the cart's position and both
// angles, now and one step before (a feed-forward network has no memory of its own, and
// differences are what velocities are); Gruau's damping fitness; solved when the best
// balances 100,000 steps and then 200 of the 625 generalisation starts for 1,000 steps.
class DoublePoleNoVelocitiesDomain final : public Domain {
 public:
  std::string_view name() const override { return "double-pole-nv"; }
  std::string_view description() const override {
    return "double pole balancing without velocities: position and both angles now and one "
           "step before (6 inputs), 1 output; metric 'fitness' (Gruau's 0.1 f1 + 0.9 f2) and "
           "'steps'; solved at 100,000 steps and 200 of 625 generalisation starts";
  }
  std::optional<std::string> check_network(const NetworkShape& shape) const override {
    return expect_sizes(shape, 6, 1, name());
  }
  MetricValues evaluate(ForwardPass& pass, std::span<const float> genome, int) const override {
    auto policy = observer(pass, genome);
    const double fitness = poles::gruau_fitness(policy);
    return {{"fitness", fitness}};
  }
  Validation validate(ForwardPass& pass,
                      std::span<const std::span<const float>> front) const override {
    const int balanced =
        poles::balance(poles::standard_start(), kSolvedSteps, observer(pass, front.front()));
    const int generalised = balanced < kSolvedSteps ? 0 : poles::generalisation_score([&] {
      return observer(pass, front.front());
    });
    return {
        "generalisation starts of 625 the best candidate balances for 1,000 steps, once it "
        "balanced 100,000 (solved at 200)",
        static_cast<double>(generalised), 200, generalised >= 200};
  }

 private:
  // A policy with its own memory of the previous observation.
  static std::function<double(const poles::State&)> observer(ForwardPass& pass,
                                                             std::span<const float> genome) {
    return [&pass, genome,
            previous = std::optional<std::array<float, 3>>()](const poles::State& s) mutable {
      const std::array<float, 3> now{static_cast<float>(s[0] / 4.8),
                                     static_cast<float>(s[2] / 0.52),
                                     static_cast<float>(s[4] / 0.52)};
      const auto before = previous.value_or(now);
      previous = now;
      return action_of(pass, genome, {now[0], now[1], now[2], before[0], before[1], before[2]});
    };
  }
};

// The classic test functions on the genome itself (the network is never run), for the
// optimisers alone; metric 'f' to minimise, optimum 0.
class TestFunctionDomain final : public Domain {
 public:
  enum class Kind { kSphere, kRosenbrock, kRastrigin };
  explicit TestFunctionDomain(Kind kind) : kind_(kind) {}

  std::string_view name() const override {
    switch (kind_) {
      case Kind::kSphere:
        return "sphere";
      case Kind::kRosenbrock:
        return "rosenbrock";
      case Kind::kRastrigin:
        return "rastrigin";
    }
    return "";
  }
  std::string_view description() const override {
    switch (kind_) {
      case Kind::kSphere:
        return "the sphere function sum(w^2) of the genome's weights; metric 'f', optimum 0";
      case Kind::kRosenbrock:
        return "Rosenbrock's function sum(100 (w[i+1] - w[i]^2)^2 + (1 - w[i])^2) of the "
               "genome's weights; metric 'f', optimum 0 at all ones";
      case Kind::kRastrigin:
        return "Rastrigin's function 10 n + sum(w^2 - 10 cos(2 pi w)) of the genome's weights; "
               "metric 'f', optimum 0";
    }
    return "";
  }
  std::optional<std::string> check_network(const NetworkShape&) const override {
    return std::nullopt;
  }
  MetricValues evaluate(ForwardPass&, std::span<const float> genome, int) const override {
    return {{"f", value(genome)}};
  }
  Validation validate(ForwardPass&, std::span<const std::span<const float>> front) const override {
    const double best = value(front.front());
    return {"f of the best candidate (optimum 0)", best, 1e-2, best <= 1e-2};
  }

  double value(std::span<const float> w) const {
    double sum = 0;
    const std::size_t n = w.size();
    for (std::size_t i = 0; i < n; ++i) {
      const double x = w[i];
      switch (kind_) {
        case Kind::kSphere:
          sum += x * x;
          break;
        case Kind::kRosenbrock:
          if (i + 1 < n) {
            const double next = w[i + 1];
            sum += 100 * (next - x * x) * (next - x * x) + (1 - x) * (1 - x);
          }
          break;
        case Kind::kRastrigin:
          sum += 10 + x * x - 10 * std::cos(2 * M_PI * x);
          break;
      }
    }
    return sum;
  }

 private:
  Kind kind_;
};

}  // namespace

std::vector<std::unique_ptr<Domain>> all_domains() {
  std::vector<std::unique_ptr<Domain>> domains;
  domains.push_back(std::make_unique<FunctionDomain>());
  domains.push_back(std::make_unique<ParetoDomain>());
  domains.push_back(std::make_unique<CartPoleDomain>());
  domains.push_back(std::make_unique<DoublePoleDomain>());
  domains.push_back(std::make_unique<DoublePoleNoVelocitiesDomain>());
  for (auto kind : {TestFunctionDomain::Kind::kSphere, TestFunctionDomain::Kind::kRosenbrock,
                    TestFunctionDomain::Kind::kRastrigin})
    domains.push_back(std::make_unique<TestFunctionDomain>(kind));
  return domains;
}

std::unique_ptr<Domain> find_domain(std::string_view name) {
  for (auto& domain : all_domains()) {
    if (domain->name() == name) return std::move(domain);
  }
  return nullptr;
}

}  // namespace esp::cli
