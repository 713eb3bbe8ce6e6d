// One generation step, the non-dominated sort, and the memory-copy floor, at the
// sizes issue 3 names. bench/evolution/run.sh compares them with DEAP and pagmo2.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <thread>

#include "evolution/engine.h"
#include "evolution/network.h"

namespace esp::evolution {
namespace {

// A network with about `weights` weights: inputs -> hidden (tanh) -> one linear output.
NetworkSpec network_of_about(std::size_t weights) {
  std::size_t hidden = weights >= 5000 ? 100 : 10;
  std::size_t inputs = (weights - 2 * hidden - 1 + hidden / 2) / hidden;
  return {.inputs = {{"x", inputs, {"float"}}},
          .hidden_layers = {{"h", hidden, Activation::kTanh, true}},
          .outputs = {{"y", 1, Activation::kLinear, true, {"float"}}}};
}

// The settings the DEAP peer uses too: tournament on crowded comparison, uniform
// crossover, Gaussian noise on 10% of the weights.
ExperimentParams step_params(std::size_t population, std::size_t weights, std::size_t objectives) {
  ExperimentParams params;
  params.network = network_of_about(weights);
  params.evolution.population_size = static_cast<int>(population);
  params.evolution.nb_elites = 0;
  params.evolution.remove_population_pct = 0.0;
  params.evolution.mutation_type = {MutationType::kGaussianNoiseFixed};
  params.evolution.fitness.clear();
  for (std::size_t j = 0; j < objectives; ++j) {
    params.evolution.fitness.push_back({"m" + std::to_string(j), j % 2 == 0});
  }
  return params;
}

Scores random_scores(std::size_t candidates, std::size_t objectives, std::uint64_t seed) {
  std::mt19937_64 random(seed);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  Scores scores(candidates, objectives);
  for (std::size_t i = 0; i < candidates; ++i) {
    for (std::size_t j = 0; j < objectives; ++j)
      scores.at(i, j) = uniform(random);
  }
  return scores;
}

unsigned bench_threads() {
  return std::max(1U, std::thread::hardware_concurrency());
}

void GenerationStep(benchmark::State& state) {
  const auto population = static_cast<std::size_t>(state.range(0));
  const auto objectives = static_cast<std::size_t>(state.range(2));
  const auto params = step_params(population, static_cast<std::size_t>(state.range(1)), objectives);
  const auto threads = static_cast<unsigned>(state.range(3));
  const auto evaluated = initial_population(params, 1, {.threads = bench_threads()});
  const auto scores = random_scores(population, objectives, 2);
  Seed seed = 3;
  for (auto _ : state) {
    auto next = next_generation(params, evaluated, scores, seed++, {.threads = threads});
    benchmark::DoNotOptimize(next->population.genomes[0].data());
  }
  state.counters["W"] = static_cast<double>(NetworkShape(params.network).weight_count());
}

// The first population of an experiment, with the default orthogonal initialisation.
void InitialPopulation(benchmark::State& state) {
  auto params = step_params(static_cast<std::size_t>(state.range(0)),
                            static_cast<std::size_t>(state.range(1)), 2);
  params.evolution.initialization_distribution = Initialization::kOrthogonal;
  const auto threads = static_cast<unsigned>(state.range(2));
  Seed seed = 5;
  for (auto _ : state) {
    auto population = initial_population(params, seed++, {.threads = threads});
    benchmark::DoNotOptimize(population.genomes[0].data());
  }
}

void NondominatedSort(benchmark::State& state) {
  const auto points = static_cast<std::size_t>(state.range(0));
  const auto objectives = static_cast<std::size_t>(state.range(1));
  auto scores = random_scores(points, objectives, 4);
  std::vector<double> values;
  for (std::size_t i = 0; i < points; ++i) {
    auto row = scores.row(i);
    values.insert(values.end(), row.begin(), row.end());
  }
  for (auto _ : state) {
    auto fronts = nondominated_fronts(values, objectives);
    benchmark::DoNotOptimize(fronts.data());
  }
}

// The least a generation must do: write P x W floats. Measured as a copy between two
// population blocks already in memory.
void CopyFloor(benchmark::State& state) {
  const auto population = static_cast<std::size_t>(state.range(0));
  const auto weights =
      NetworkShape(network_of_about(static_cast<std::size_t>(state.range(1)))).weight_count();
  Genomes source(population, weights);
  Genomes target(population, weights);
  for (std::size_t i = 0; i < population; ++i) {
    std::fill(source[i].begin(), source[i].end(), 1.0F);
    std::fill(target[i].begin(), target[i].end(), 0.0F);
  }
  for (auto _ : state) {
    for (std::size_t i = 0; i < population; ++i) {
      std::memcpy(target[i].data(), source[i].data(), weights * sizeof(float));
    }
    benchmark::ClobberMemory();
  }
}

// {P, W, M, threads}
void step_sizes(benchmark::internal::Benchmark* bench) {
  for (auto threads : {1L, static_cast<long>(bench_threads())}) {
    bench->Args({1000, 10000, 2, threads});
    bench->Args({10000, 100, 3, threads});
    bench->Args({100000, 100, 2, threads});
  }
}

BENCHMARK(GenerationStep)->Apply(step_sizes)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(InitialPopulation)
    ->Args({1000, 10000, 1})
    ->Args({1000, 10000, static_cast<long>(bench_threads())})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(NondominatedSort)
    ->Args({10000, 2})
    ->Args({10000, 3})
    ->Args({100000, 2})
    ->Args({100000, 3})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(CopyFloor)
    ->Args({1000, 10000})
    ->Args({10000, 100})
    ->Args({100000, 100})
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace esp::evolution

BENCHMARK_MAIN();
