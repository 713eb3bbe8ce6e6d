// Double pole balancing, the neuroevolution benchmark (Wieland 1991; Gomez, Schmidhuber
// & Miikkulainen 2008): two poles of different lengths hinged on one cart, pushed by a
// force of up to 10 N. The physics is the standard one: cart 1 kg; poles 0.1 and 0.01 kg
// with half-lengths 0.5 and 0.05 m and hinge friction 2e-6; 4th-order Runge-Kutta with
// tau = 0.01 s, twice per action; a run fails when the cart leaves +-2.4 m or a pole
// leans over 36 degrees. A run starts with the long pole at 4 degrees.
#pragma once

#include <array>
#include <functional>

namespace esp::cli::poles {

// x, x_dot, theta1, theta1_dot, theta2, theta2_dot (m, m/s, rad, rad/s).
using State = std::array<double, 6>;

inline constexpr double kForce = 10.0;
inline constexpr double kTrackLimit = 2.4;
inline constexpr double kAngleLimit = 36.0 * 3.14159265358979323846 / 180.0;

State standard_start();

// One action: force = (2 action - 1) * 10 N for `action` in [0, 1], two Runge-Kutta
// steps of 10 ms.
State act(const State& state, double action);

bool failed(const State& state);

// Steps balanced (at most `limit`) by `policy`, which maps the state to an action.
int balance(State state, int limit, const std::function<double(const State&)>& policy);

// Gruau's fitness for the run without velocities, over at most 1,000 steps:
// 0.1 * steps / 1000 + 0.9 * f2, where f2 = 0.75 / (the sum over the last 100 steps of
// |x| + |x_dot| + |theta1| + |theta1_dot|) once the run lasted 100 steps, else 0. It
// rewards balancing without the cart swinging.
double gruau_fitness(const std::function<double(const State&)>& policy);

// The generalisation test (Gruau; Gomez et al.): 625 starts with x, x_dot, theta1 and
// theta1_dot each at 0.05, 0.25, 0.5, 0.75 and 0.95 of their ranges (+-2.16 m,
// +-1.35 m/s, +-3.6 deg, +-8.6 deg/s) and the short pole upright; how many `policy`
// balances for 1,000 steps (passing takes 200).
int generalisation_score(const std::function<std::function<double(const State&)>()>& fresh_policy);

}  // namespace esp::cli::poles
