#include "cli/pole_balancing.h"

#include <cmath>
#include <deque>

namespace esp::cli::poles {
namespace {

constexpr double kGravity = -9.8;  // the equations' sign convention
constexpr double kCartMass = 1.0;
constexpr double kPoleMass[2] = {0.1, 0.01};
constexpr double kHalfLength[2] = {0.5, 0.05};
constexpr double kHingeFriction = 0.000002;
constexpr double kTau = 0.01;

// Wieland's equations of motion, as Gomez's simulator writes them.
State derivatives(const State& s, double force) {
  double cart_force = force;
  double effective_mass = kCartMass;
  double cosines[2], gravity_terms[2], friction_terms[2];
  for (int i = 0; i < 2; ++i) {
    const double theta = s[2 + 2 * i], theta_dot = s[3 + 2 * i];
    const double mass_length = kHalfLength[i] * kPoleMass[i];
    cosines[i] = std::cos(theta);
    gravity_terms[i] = kGravity * std::sin(theta);
    friction_terms[i] = kHingeFriction * theta_dot / mass_length;
    cart_force += mass_length * theta_dot * theta_dot * std::sin(theta) +
                  0.75 * kPoleMass[i] * cosines[i] * (friction_terms[i] + gravity_terms[i]);
    effective_mass += kPoleMass[i] * (1 - 0.75 * cosines[i] * cosines[i]);
  }
  const double x_acc = cart_force / effective_mass;
  State d{};
  d[0] = s[1];
  d[1] = x_acc;
  for (int i = 0; i < 2; ++i) {
    d[2 + 2 * i] = s[3 + 2 * i];
    d[3 + 2 * i] =
        -0.75 * (x_acc * cosines[i] + gravity_terms[i] + friction_terms[i]) / kHalfLength[i];
  }
  return d;
}

State plus(const State& s, const State& d, double h) {
  State out;
  for (std::size_t i = 0; i < s.size(); ++i)
    out[i] = s[i] + h * d[i];
  return out;
}

State runge_kutta(const State& s, double force) {
  const State k1 = derivatives(s, force);
  const State k2 = derivatives(plus(s, k1, kTau / 2), force);
  const State k3 = derivatives(plus(s, k2, kTau / 2), force);
  const State k4 = derivatives(plus(s, k3, kTau), force);
  State out;
  for (std::size_t i = 0; i < s.size(); ++i)
    out[i] = s[i] + kTau / 6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
  return out;
}

}  // namespace

State standard_start() {
  return {0, 0, 4.0 * 3.14159265358979323846 / 180.0, 0, 0, 0};
}

State act(const State& state, double action) {
  const double force = (2 * action - 1) * kForce;
  return runge_kutta(runge_kutta(state, force), force);
}

bool failed(const State& s) {
  return std::abs(s[0]) > kTrackLimit || std::abs(s[2]) > kAngleLimit ||
         std::abs(s[4]) > kAngleLimit;
}

int balance(State state, int limit, const std::function<double(const State&)>& policy) {
  for (int step = 0; step < limit; ++step) {
    state = act(state, policy(state));
    if (failed(state)) return step;
  }
  return limit;
}

double gruau_fitness(const std::function<double(const State&)>& policy) {
  constexpr int kSteps = 1000, kWindow = 100;
  State state = standard_start();
  std::deque<double> wobble;  // |x| + |x_dot| + |theta1| + |theta1_dot| of the last steps
  int steps = 0;
  for (; steps < kSteps; ++steps) {
    state = act(state, policy(state));
    if (failed(state)) break;
    wobble.push_back(std::abs(state[0]) + std::abs(state[1]) + std::abs(state[2]) +
                     std::abs(state[3]));
    if (wobble.size() > kWindow) wobble.pop_front();
  }
  double f2 = 0;
  if (steps >= kWindow) {
    double sum = 0;
    for (double w : wobble)
      sum += w;
    f2 = sum > 0 ? 0.75 / sum : 0.75;
  }
  return 0.1 * steps / kSteps + 0.9 * f2;
}

int generalisation_score(const std::function<std::function<double(const State&)>()>& fresh_policy) {
  constexpr double kFractions[] = {0.05, 0.25, 0.5, 0.75, 0.95};
  constexpr double kDegree = 3.14159265358979323846 / 180.0;
  const double ranges[4] = {2.16, 1.35, 3.6 * kDegree, 8.6 * kDegree};
  int passed = 0;
  for (double fx : kFractions)
    for (double fv : kFractions)
      for (double ft : kFractions)
        for (double fw : kFractions) {
          const double f[4] = {fx, fv, ft, fw};
          State start{};
          for (int i = 0; i < 4; ++i)
            start[i] = -ranges[i] + f[i] * 2 * ranges[i];
          if (balance(start, 1000, fresh_policy()) == 1000) ++passed;
        }
  return passed;
}

}  // namespace esp::cli::poles
