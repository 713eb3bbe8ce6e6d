#include "evolution/cma_es.h"

#include <Eigen/Dense>
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <numeric>

#include "evolution/random.h"

namespace esp::evolution {
namespace {

static_assert(std::endian::native == std::endian::little, "the state is written little-endian");

// Version 2 adds what restarts need; version 1 states (no restarts yet) are still read.
constexpr std::string_view kMagic{"ESPCMA2\0", 8};
constexpr std::string_view kMagicFirstRunOnly{"ESPCMA1\0", 8};

using Matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatrixMap = Eigen::Map<Matrix>;
using ConstMatrixMap = Eigen::Map<const Matrix>;
using Vector = Eigen::VectorXd;
using VectorMap = Eigen::Map<Vector>;
using ConstVectorMap = Eigen::Map<const Vector>;

void put(std::string& out, const void* data, std::size_t size) {
  if (size > 0) out.append(static_cast<const char*>(data), size);
}

template <typename T>
bool take(std::string_view& in, T& value) {
  if (in.size() < sizeof(T)) return false;
  std::memcpy(&value, in.data(), sizeof(T));
  in.remove_prefix(sizeof(T));
  return true;
}

bool take(std::string_view& in, std::vector<double>& values, std::size_t count) {
  if (in.size() / sizeof(double) < count) return false;
  values.resize(count);
  if (count == 0) return true;
  std::memcpy(values.data(), in.data(), count * sizeof(double));
  in.remove_prefix(count * sizeof(double));
  return true;
}

bool is_separable(const CmaState& state) {
  return state.variant == CmaVariant::kSeparable;
}

// Eigenvectors and the square roots of the eigenvalues (ascending) of the covariance.
void decompose(CmaState& state) {
  const auto n = static_cast<Eigen::Index>(state.dimension);
  if (is_separable(state)) {
    state.scales.resize(state.dimension);
    for (std::size_t i = 0; i < state.dimension; ++i)
      state.scales[i] = std::sqrt(std::max(state.covariance[i], 1e-300));
    return;
  }
  Eigen::SelfAdjointEigenSolver<Matrix> solver(ConstMatrixMap(state.covariance.data(), n, n));
  state.basis.resize(state.dimension * state.dimension);
  MatrixMap(state.basis.data(), n, n) = solver.eigenvectors();
  state.scales.resize(state.dimension);
  for (Eigen::Index i = 0; i < n; ++i)
    state.scales[static_cast<std::size_t>(i)] =
        std::sqrt(std::max(solver.eigenvalues()[i], 1e-300));
}

}  // namespace

std::string CmaState::serialize() const {
  std::string out(kMagic);
  const auto kind = static_cast<std::uint8_t>(variant);
  const std::uint64_t n = dimension;
  put(out, &kind, 1);
  put(out, &n, sizeof n);
  put(out, &updates, sizeof updates);
  put(out, &sigma, sizeof sigma);
  put(out, &start_sigma, sizeof start_sigma);
  put(out, &restarts, sizeof restarts);
  put(out, &best_value, sizeof best_value);
  put(out, &updates_since_best, sizeof updates_since_best);
  for (const auto* values : {&mean, &path_sigma, &path_c, &covariance, &basis, &scales})
    put(out, values->data(), values->size() * sizeof(double));
  return out;
}

Result<CmaState> CmaState::parse(std::string_view bytes) {
  const Error corrupt{Code::kInternal, "the CMA-ES state of this population is corrupt"};
  const bool first_run_only = bytes.starts_with(kMagicFirstRunOnly);
  if (!first_run_only && !bytes.starts_with(kMagic)) return corrupt;
  bytes.remove_prefix(kMagic.size());
  CmaState state;
  std::uint8_t kind = 0;
  std::uint64_t n = 0;
  const std::uint8_t last_kind = first_run_only ? 1 : 2;  // version 1 had no active variant
  if (!take(bytes, kind) || !take(bytes, n) || !take(bytes, state.updates) ||
      !take(bytes, state.sigma) || kind > last_kind || n == 0 || n > (std::uint64_t{1} << 32))
    return corrupt;
  state.start_sigma = state.sigma;
  if (!first_run_only &&
      (!take(bytes, state.start_sigma) || !take(bytes, state.restarts) ||
       !take(bytes, state.best_value) || !take(bytes, state.updates_since_best) ||
       state.restarts < 0 || state.updates_since_best < 0))
    return corrupt;
  state.variant = static_cast<CmaVariant>(kind);
  state.dimension = n;
  const std::size_t square = is_separable(state) ? n : n * n;
  if (!take(bytes, state.mean, n) || !take(bytes, state.path_sigma, n) ||
      !take(bytes, state.path_c, n) || !take(bytes, state.covariance, square) ||
      !take(bytes, state.basis, is_separable(state) ? 0 : square) ||
      !take(bytes, state.scales, n) || !bytes.empty())
    return corrupt;
  return state;
}

namespace {

// Hansen's (2016) constants, as the cmaes library computes them (its eqs. 48-56): weights
// ln((lambda + 1) / 2) - ln(i), the positive ones summing to 1 and the negative ones
// scaled so the covariance stays positive definite.
CmaConstants active_constants(std::size_t dimension, std::size_t lambda) {
  CmaConstants c;
  const double n = static_cast<double>(dimension);
  lambda = std::max<std::size_t>(lambda, 2);
  c.mu = lambda / 2;
  std::vector<double> prime(lambda);
  for (std::size_t i = 0; i < lambda; ++i)
    prime[i] =
        std::log((static_cast<double>(lambda) + 1) / 2) - std::log(static_cast<double>(i + 1));
  auto effective = [](auto begin, auto end) {
    const double sum = std::accumulate(begin, end, 0.0);
    const double squares = std::inner_product(begin, end, begin, 0.0);
    return squares > 0 ? sum * sum / squares : 0.0;
  };
  const auto split = prime.begin() + static_cast<std::ptrdiff_t>(c.mu);
  c.mueff = effective(prime.begin(), split);
  const double mueff_minus = effective(split, prime.end());
  c.c1 = 2 / ((n + 1.3) * (n + 1.3) + c.mueff);
  c.cmu = std::min(1 - c.c1 - 1e-8,
                   2 * (c.mueff - 2 + 1 / c.mueff) / ((n + 2) * (n + 2) + 2 * c.mueff / 2));
  const double alpha = std::min(
      {1 + c.c1 / c.cmu, 1 + 2 * mueff_minus / (c.mueff + 2), (1 - c.c1 - c.cmu) / (n * c.cmu)});
  double positive = 0, negative = 0;
  for (double w : prime)
    (w > 0 ? positive : negative) += std::abs(w);
  c.weights.resize(lambda);
  for (std::size_t i = 0; i < lambda; ++i)
    c.weights[i] = prime[i] >= 0 ? prime[i] / positive : alpha / negative * prime[i];
  c.cs = (c.mueff + 2) / (n + c.mueff + 5);
  c.damps = 1 + 2 * std::max(0.0, std::sqrt((c.mueff - 1) / (n + 1)) - 1) + c.cs;
  c.cc = (4 + c.mueff / n) / (n + 4 + 2 * c.mueff / n);
  c.chi_n = std::sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n * n));
  return c;
}

// Hansen's (2016) update, as the cmaes library's CMA.tell writes it: the better half
// moves the mean and the paths; every ranked candidate enters the rank-mu update, the
// worse half with negative weights scaled by n / |C^-1/2 y|^2 (eq. 46), so the
// covariance shrinks along directions that did badly.
CmaState active_update(const CmaState& state, std::span<const std::span<const float>> best_first,
                       std::size_t lambda) {
  CmaState next = state;
  const std::size_t n = state.dimension;
  const auto size = static_cast<Eigen::Index>(n);
  const auto c = active_constants(n, lambda);
  const std::size_t ranked = std::min(best_first.size(), c.weights.size());
  const std::size_t mu = std::min(c.mu, ranked);
  if (mu == 0) return next;
  // Fewer complete candidates than mu: the positive weights of those there sum to 1.
  std::vector<double> weights(c.weights.begin(), c.weights.begin() + static_cast<long>(ranked));
  const double positive =
      std::accumulate(weights.begin(), weights.begin() + static_cast<long>(mu), 0.0);
  for (std::size_t k = 0; k < mu; ++k)
    weights[k] /= positive;

  Matrix steps(static_cast<Eigen::Index>(ranked), size);  // y_k = (x_k - m) / sigma
  for (std::size_t k = 0; k < ranked; ++k)
    for (std::size_t i = 0; i < n; ++i)
      steps(static_cast<Eigen::Index>(k), static_cast<Eigen::Index>(i)) =
          (static_cast<double>(best_first[k][i]) - state.mean[i]) / state.sigma;
  Vector step_w = Vector::Zero(size);
  for (std::size_t k = 0; k < mu; ++k)
    step_w += weights[k] * steps.row(static_cast<Eigen::Index>(k)).transpose();
  VectorMap mean(next.mean.data(), size);
  mean += state.sigma * step_w;

  const ConstMatrixMap basis(state.basis.data(), size, size);
  Vector inverse_scales(size);
  for (Eigen::Index i = 0; i < size; ++i)
    inverse_scales[i] = 1 / state.scales[static_cast<std::size_t>(i)];
  const Matrix inverse_root = basis * inverse_scales.asDiagonal() * basis.transpose();
  VectorMap path_sigma(next.path_sigma.data(), size);
  path_sigma =
      (1 - c.cs) * path_sigma + std::sqrt(c.cs * (2 - c.cs) * c.mueff) * (inverse_root * step_w);
  const double norm = path_sigma.norm();
  next.sigma = std::min(state.sigma * std::exp(c.cs / c.damps * (norm / c.chi_n - 1)), 1e32);
  next.updates = state.updates + 1;
  // The library counts this generation before the correction: 2 (g + 1) with g = updates.
  const double hsig =
      norm / std::sqrt(1 - std::pow(1 - c.cs, 2.0 * static_cast<double>(next.updates + 1))) <
              (1.4 + 2 / (static_cast<double>(n) + 1)) * c.chi_n
          ? 1.0
          : 0.0;
  VectorMap path_c(next.path_c.data(), size);
  path_c = (1 - c.cc) * path_c + hsig * std::sqrt(c.cc * (2 - c.cc) * c.mueff) * step_w;

  Vector scaled_weights(static_cast<Eigen::Index>(ranked));
  for (std::size_t k = 0; k < ranked; ++k) {
    const auto row = steps.row(static_cast<Eigen::Index>(k)).transpose();
    scaled_weights[static_cast<Eigen::Index>(k)] =
        weights[k] >= 0
            ? weights[k]
            : weights[k] * static_cast<double>(n) / ((inverse_root * row).squaredNorm() + 1e-8);
  }
  const double weight_sum = std::accumulate(weights.begin(), weights.end(), 0.0);
  const double delta_hsig = (1 - hsig) * c.cc * (2 - c.cc);
  MatrixMap covariance(next.covariance.data(), size, size);
  covariance = (1 + c.c1 * delta_hsig - c.c1 - c.cmu * weight_sum) * covariance +
               c.c1 * (path_c * path_c.transpose()) +
               c.cmu * (steps.transpose() * scaled_weights.asDiagonal() * steps);
  covariance = (0.5 * (covariance + covariance.transpose())).eval();
  decompose(next);
  return next;
}

}  // namespace

CmaConstants CmaConstants::of(std::size_t dimension, std::size_t lambda, CmaVariant variant) {
  if (variant == CmaVariant::kActive) return active_constants(dimension, lambda);
  CmaConstants c;
  const double n = static_cast<double>(dimension);
  c.mu = std::max<std::size_t>(lambda / 2, 1);
  c.weights.resize(c.mu);
  for (std::size_t i = 0; i < c.mu; ++i)
    c.weights[i] = std::log(static_cast<double>(c.mu) + 0.5) - std::log(static_cast<double>(i + 1));
  const double sum = std::accumulate(c.weights.begin(), c.weights.end(), 0.0);
  double squares = 0;
  for (double& w : c.weights) {
    w /= sum;
    squares += w * w;
  }
  c.mueff = 1 / squares;
  c.cc = 4 / (n + 4);
  c.cs = (c.mueff + 2) / (n + c.mueff + 3);
  c.c1 = 2 / ((n + 1.3) * (n + 1.3) + c.mueff);
  c.cmu = 2 * (c.mueff - 2 + 1 / c.mueff) / ((n + 2) * (n + 2) + c.mueff);
  if (variant == CmaVariant::kSeparable) {
    // A diagonal learns n values, not n^2: faster rates (Ros & Hansen 2008).
    c.c1 *= (n + 2) / 3;
    c.cmu *= (n + 2) / 3;
  }
  c.c1 = std::min(c.c1, 1.0);
  c.cmu = std::min(1 - c.c1, c.cmu);
  c.damps = 1 + 2 * std::max(0.0, std::sqrt((c.mueff - 1) / (n + 1)) - 1) + c.cs;
  c.chi_n = std::sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n * n));
  return c;
}

CmaState cma_start(std::size_t dimension, double sigma, CmaVariant variant) {
  CmaState state{.variant = variant, .dimension = dimension, .sigma = sigma, .start_sigma = sigma};
  state.mean.assign(dimension, 0.0);
  state.path_sigma.assign(dimension, 0.0);
  state.path_c.assign(dimension, 0.0);
  if (is_separable(state)) {
    state.covariance.assign(dimension, 1.0);
  } else {
    state.covariance.assign(dimension * dimension, 0.0);
    for (std::size_t i = 0; i < dimension; ++i)
      state.covariance[i * dimension + i] = 1.0;
  }
  decompose(state);
  return state;
}

void cma_sample(const CmaState& state, RandomStream& random, std::span<float> out) {
  const std::size_t n = state.dimension;
  std::vector<float> z(n);
  random.fill_normal(z);
  std::vector<double> scaled(n);
  for (std::size_t i = 0; i < n; ++i)
    scaled[i] = state.scales[i] * static_cast<double>(z[i]);
  if (is_separable(state)) {
    for (std::size_t i = 0; i < n; ++i)
      out[i] = static_cast<float>(state.mean[i] + state.sigma * scaled[i]);
    return;
  }
  const auto size = static_cast<Eigen::Index>(n);
  const Vector step =
      ConstMatrixMap(state.basis.data(), size, size) * ConstVectorMap(scaled.data(), size);
  for (std::size_t i = 0; i < n; ++i)
    out[i] = static_cast<float>(state.mean[i] + state.sigma * step[static_cast<Eigen::Index>(i)]);
}

CmaState cma_update(const CmaState& state, std::span<const std::span<const float>> best_first,
                    std::size_t lambda) {
  if (state.variant == CmaVariant::kActive) return active_update(state, best_first, lambda);
  CmaState next = state;
  const std::size_t n = state.dimension;
  const auto size = static_cast<Eigen::Index>(n);
  auto c = CmaConstants::of(n, lambda, state.variant);
  const std::size_t mu = std::min(c.mu, best_first.size());
  if (mu == 0) return next;
  std::vector<double> weights(c.weights.begin(), c.weights.begin() + static_cast<long>(mu));
  const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
  for (double& w : weights)
    w /= total;

  // The new mean, and each chosen candidate's step from the old one.
  Matrix steps(static_cast<Eigen::Index>(mu), size);
  Vector mean = Vector::Zero(size);
  const ConstVectorMap old_mean(state.mean.data(), size);
  for (std::size_t k = 0; k < mu; ++k) {
    for (std::size_t i = 0; i < n; ++i) {
      const double x = best_first[k][i];
      mean[static_cast<Eigen::Index>(i)] += weights[k] * x;
      steps(static_cast<Eigen::Index>(k), static_cast<Eigen::Index>(i)) = x - state.mean[i];
    }
  }
  const Vector shift = mean - old_mean;

  // Evolution paths: the step size's in the whitened space, the covariance's as is.
  Vector whitened(size);
  if (is_separable(state)) {
    for (Eigen::Index i = 0; i < size; ++i)
      whitened[i] = shift[i] / state.scales[static_cast<std::size_t>(i)];
  } else {
    const ConstMatrixMap basis(state.basis.data(), size, size);
    Vector projected = basis.transpose() * shift;
    for (Eigen::Index i = 0; i < size; ++i)
      projected[i] /= state.scales[static_cast<std::size_t>(i)];
    whitened = basis * projected;
  }
  VectorMap path_sigma(next.path_sigma.data(), size);
  path_sigma =
      (1 - c.cs) * path_sigma + std::sqrt(c.cs * (2 - c.cs) * c.mueff) / state.sigma * whitened;
  const double norm = path_sigma.norm();
  const double hsig =
      norm / std::sqrt(1 - std::pow(1 - c.cs, 2.0 * static_cast<double>(state.updates + 1))) /
                  c.chi_n <
              1.4 + 2 / (static_cast<double>(n) + 1)
          ? 1.0
          : 0.0;
  next.updates = state.updates + 1;
  VectorMap path_c(next.path_c.data(), size);
  path_c =
      (1 - c.cc) * path_c + hsig * std::sqrt(c.cc * (2 - c.cc) * c.mueff) / state.sigma * shift;

  // Covariance: rank-one from the path, rank-mu from the chosen steps.
  const double keep = 1 - c.c1 - c.cmu + (1 - hsig) * c.c1 * c.cc * (2 - c.cc);
  const double sigma2 = state.sigma * state.sigma;
  if (is_separable(state)) {
    for (std::size_t i = 0; i < n; ++i) {
      double rank_mu = 0;
      for (std::size_t k = 0; k < mu; ++k) {
        const double s = steps(static_cast<Eigen::Index>(k), static_cast<Eigen::Index>(i));
        rank_mu += weights[k] * s * s;
      }
      next.covariance[i] = keep * state.covariance[i] + c.c1 * next.path_c[i] * next.path_c[i] +
                           c.cmu * rank_mu / sigma2;
    }
  } else {
    MatrixMap covariance(next.covariance.data(), size, size);
    const Eigen::Map<const Vector> w(weights.data(), static_cast<Eigen::Index>(mu));
    covariance = keep * covariance + c.c1 * (path_c * path_c.transpose()) +
                 c.cmu / sigma2 * (steps.transpose() * w.asDiagonal() * steps);
    // Exactly symmetric, so the decomposition sees the matrix it is meant to.
    covariance = (0.5 * (covariance + covariance.transpose())).eval();
  }
  next.sigma = state.sigma * std::exp((norm / c.chi_n - 1) * c.cs / c.damps);
  for (std::size_t i = 0; i < n; ++i)
    next.mean[i] = mean[static_cast<Eigen::Index>(i)];
  decompose(next);
  return next;
}

void cma_follow_best(CmaState& state, double best_value, double tolerance) {
  // Infinity minus a tolerance is infinity: the first finite value always counts.
  if (best_value < state.best_value - tolerance) {
    state.best_value = best_value;
    state.updates_since_best = 0;
  } else {
    ++state.updates_since_best;
  }
}

std::optional<std::string> cma_stall(const CmaState& state, std::size_t lambda) {
  const double n = static_cast<double>(state.dimension);
  const auto window = 10 + static_cast<std::int64_t>(std::ceil(
                               30 * n / static_cast<double>(std::max<std::size_t>(lambda, 1))));
  if (state.updates_since_best >= window)
    return "its best value has not improved (by more than cma_tolfun) for " +
           std::to_string(window) + " generations";
  const auto [smallest, largest] = std::ranges::minmax(state.scales);
  if (state.sigma * largest < 1e-12 * state.start_sigma)
    return "its step size fell under 1e-12 of the start's";
  if (largest > 1e7 * smallest)  // the scales are square roots of the eigenvalues
    return "its covariance's condition number passed 1e14";
  return std::nullopt;
}

CmaState cma_restart(const CmaState& state) {
  CmaState fresh = cma_start(state.dimension, state.start_sigma, state.variant);
  fresh.restarts = state.restarts + 1;
  return fresh;
}

}  // namespace esp::evolution
