// CMA-ES beside the GA (`evolution.algorithm`): the covariance matrix adaptation
// evolution strategy with full covariance (the update as DEAP's cma.Strategy writes
// it), sep-CMA-ES (Ros & Hansen 2008), whose diagonal covariance costs linear time and
// memory per weight, and active CMA-ES (Hansen's tutorial, 2016: negative weights for
// the worse half, as the cmaes library writes it). The strategy's state travels with each
// generation (Population::strategy) so any replica continues it bit for bit. A run that
// stalls may start again with twice the population (IPOP-CMA-ES, Auger & Hansen 2005).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace esp::evolution {

class RandomStream;

enum class CmaVariant : std::uint8_t {
  kFull = 0,       // DEAP's update: positive weights for the better half
  kSeparable = 1,  // a diagonal covariance, with DEAP's update scaled for it
  kActive = 2,     // Hansen (2016): every candidate weighted, the worse half negatively
};

struct CmaState {
  CmaVariant variant = CmaVariant::kFull;
  std::size_t dimension = 0;
  double sigma = 1;
  std::vector<double> mean;
  std::vector<double> path_sigma;
  std::vector<double> path_c;
  std::vector<double> covariance;  // n x n, row-major; separable: its diagonal
  std::vector<double> basis;       // full: eigenvectors as columns, n x n row-major
  std::vector<double> scales;      // square roots of the eigenvalues (of the diagonal)
  std::int64_t updates = 0;        // since this run's start (the first, or the last restart)
  // For restarts: the start's step size, the restarts so far, and the last best value
  // that counted as progress (minimised; cma_follow_best) with the generations since.
  double start_sigma = 1;
  std::int64_t restarts = 0;
  double best_value = std::numeric_limits<double>::infinity();
  std::int64_t updates_since_best = 0;

  // Little-endian doubles behind a header; parse refuses anything else, and reads the
  // state esp wrote before restarts as a first run.
  std::string serialize() const;
  static Result<CmaState> parse(std::string_view bytes);
};

// The strategy's constants for a dimension and population size: DEAP's defaults, or
// Hansen's (2016) for the active variant.
struct CmaConstants {
  std::size_t mu = 0;
  // Log-decreasing; the first mu sum to 1. DEAP's: mu of them. Active: lambda, the
  // worse ones negative.
  std::vector<double> weights;
  double mueff = 0, cc = 0, cs = 0, c1 = 0, cmu = 0, damps = 0, chi_n = 0;
  static CmaConstants of(std::size_t dimension, std::size_t lambda, CmaVariant variant);
};

// lambda = 4 + floor(3 ln n).
inline std::size_t cma_default_population(std::size_t dimension) {
  return 4 + static_cast<std::size_t>(std::floor(3 * std::log(static_cast<double>(dimension))));
}

// The start: mean at the origin, covariance the identity, step size `sigma`.
CmaState cma_start(std::size_t dimension, double sigma, CmaVariant variant);

// One candidate: mean + sigma * B (D z) for z standard normal from `random`.
void cma_sample(const CmaState& state, RandomStream& random, std::span<float> out);

// The state after a generation: `best_first` are the evaluated genomes with a complete
// score, best first (at least mu of them are used; fewer use them all). The active
// variant also learns from the worse ones it is given, up to lambda.
CmaState cma_update(const CmaState& state, std::span<const std::span<const float>> best_first,
                    std::size_t lambda);

// Follows the run's progress for the restart test. `best_value` is a generation's best
// score as a value to minimise (maximised metrics negated; infinite when none is
// complete); it counts as progress when it betters the last value that counted by more
// than `tolerance` (cma_tolfun), so a run creeping by ever smaller steps stalls too.
void cma_follow_best(CmaState& state, double best_value, double tolerance);

// Why this run of the strategy has stalled, or nullopt. A run stalls when it has made no
// progress (cma_follow_best) for 10 + ceil(30 n / lambda) generations (pycma's
// tolfunhist window: a flat fitness stalls too), when its step size in every direction
// is under 1e-12 of the start's (tolx), or when the covariance's condition number
// passes 1e14.
std::optional<std::string> cma_stall(const CmaState& state, std::size_t lambda);

// A new run after a stall: the start again (the origin, the start's step size, the
// identity covariance), counting one restart more.
CmaState cma_restart(const CmaState& state);

}  // namespace esp::evolution
