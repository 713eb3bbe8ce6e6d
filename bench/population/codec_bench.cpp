// Encoding and decoding one generation's candidates in each representation, P=1000
// W=10,084 (the population benchmark's first case); binary is the peer for the ratio.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "codec/candidate_codec.h"
#include "evolution/engine.h"
#include "evolution/params.h"

namespace {

using namespace esp;

constexpr int kCandidates = 1000;

evolution::ExperimentParams params(const std::string& representation) {
  evolution::ExperimentParams p;
  p.network = {
      .inputs = {{"context", 100, {"float"}}},
      .hidden_layers = {{"hidden", 96, evolution::Activation::kTanh, true}},
      .outputs = {{"action", 4, evolution::Activation::kSoftmax, true, {"a", "b", "c", "d"}}}};
  p.evolution.population_size = kCandidates;
  p.leaf.representation = representation;
  return p;
}

const char* kRepresentations[] = {"NNWeightsBinary", "NNWeights", "KerasNN"};

void Encode(benchmark::State& state) {
  const auto p = params(kRepresentations[state.range(0)]);
  const auto codec = codec::CandidateCodec::create(p).value();
  const auto population = evolution::initial_population(p, 1);
  std::size_t bytes = 0;
  for (auto _ : state) {
    bytes = 0;
    for (std::size_t i = 0; i < population.genomes.size(); ++i)
      bytes += codec.encode(population.genomes[i]).size();
    benchmark::DoNotOptimize(bytes);
  }
  state.SetLabel(kRepresentations[state.range(0)]);
  state.counters["MB"] = static_cast<double>(bytes) / 1e6;
}

void Decode(benchmark::State& state) {
  const auto p = params(kRepresentations[state.range(0)]);
  const auto codec = codec::CandidateCodec::create(p).value();
  const auto population = evolution::initial_population(p, 1);
  std::vector<std::string> encoded;
  for (std::size_t i = 0; i < population.genomes.size(); ++i)
    encoded.push_back(codec.encode(population.genomes[i]));
  for (auto _ : state) {
    for (const auto& bytes : encoded)
      benchmark::DoNotOptimize(codec.decode(bytes).value());
  }
  state.SetLabel(kRepresentations[state.range(0)]);
}

BENCHMARK(Encode)->DenseRange(0, 2)->Unit(benchmark::kMillisecond);
BENCHMARK(Decode)->DenseRange(0, 2)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
