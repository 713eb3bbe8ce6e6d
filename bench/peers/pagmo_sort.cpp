// Peer for the non-dominated sort: pagmo2's fast_non_dominated_sorting on the same
// kind of input (N uniform random points, M objectives). Prints the best of `rounds`
// wall times in milliseconds.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <pagmo/utils/multi_objective.hpp>
#include <random>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: pagmo_sort N M [rounds]\n";
    return 2;
  }
  const auto n = std::strtoul(argv[1], nullptr, 10);
  const auto m = std::strtoul(argv[2], nullptr, 10);
  const int rounds = argc > 3 ? std::atoi(argv[3]) : 3;
  std::mt19937_64 random(4);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<pagmo::vector_double> points(n, pagmo::vector_double(m));
  for (auto& point : points) {
    for (auto& value : point)
      value = uniform(random);
  }
  double best_ms = 1e300;
  for (int round = 0; round < rounds; ++round) {
    auto start = std::chrono::steady_clock::now();
    auto result = pagmo::fast_non_dominated_sorting(points);
    auto elapsed =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start);
    best_ms = std::min(best_ms, elapsed.count());
    if (std::get<0>(result).empty()) return 1;
  }
  std::cout << best_ms << "\n";
  return 0;
}
