// Encoding and decoding one generation's candidates in each representation, P=1000
// W=10,084 (the population benchmark's first case); binary is the peer for the ratio.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
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

// The SDK's JSON for 1000 children bred as the GA breeds them (each weight from one of
// two parents, 10% mutated): written afresh (0); copying the parents' texts (1) as a
// worker does, the parents' texts written first each time; and copying them (2) with the
// parents' texts read out of their interpretations, as the client's request carries them.
void EncodeChildren(benchmark::State& state) {
  const auto p = params("NNWeights");
  const auto codec = codec::CandidateCodec::create(p).value();
  const auto parents = evolution::initial_population(p, 1);
  const std::size_t weights = codec.shape().weight_count();
  constexpr std::size_t kParents = 200;
  std::vector<std::array<std::size_t, 2>> pairs(kCandidates);
  std::vector<std::vector<float>> children(kCandidates, std::vector<float>(weights));
  std::uint64_t state_bits = 42;
  const auto next = [&state_bits] {  // splitmix64: the benchmark's own, not the engine's
    std::uint64_t z = (state_bits += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  };
  for (std::size_t c = 0; c < kCandidates; ++c) {
    pairs[c] = {next() % kParents, next() % kParents};
    for (std::size_t w = 0; w < weights; ++w) {
      const std::uint64_t draw = next();
      const float parent = parents.genomes[pairs[c][draw & 1]][w];
      children[c][w] = (draw >> 1) % 10 == 0 ? parent * 1.05F : parent;
    }
  }
  const auto mode = state.range(0);
  std::vector<std::string> handed_out;
  if (mode == 2) {
    for (std::size_t i = 0; i < kParents; ++i)
      handed_out.push_back(codec.encode(parents.genomes[i]));
  }
  const std::size_t slots_bytes = codec::WeightTexts::slots_bytes(weights);
  std::vector<char> slots(kParents * slots_bytes);
  for (auto _ : state) {
    std::vector<std::optional<codec::WeightTexts>> texts(kParents);
    for (std::size_t i = 0; i < kParents && mode != 0; ++i) {
      const std::span<char> own = std::span(slots).subspan(i * slots_bytes, slots_bytes);
      texts[i] = mode == 1 ? codec.texts_of(parents.genomes[i], own)
                           : codec.texts_from(parents.genomes[i], handed_out[i], own);
    }
    std::size_t bytes = 0;
    std::string buffer;
    for (std::size_t c = 0; c < kCandidates; ++c) {
      if (mode == 0) {
        bytes += codec.encode(children[c]).size();
        continue;
      }
      const codec::WeightTexts* sources[] = {&*texts[pairs[c][0]], &*texts[pairs[c][1]]};
      bytes += codec.encode(children[c], sources, buffer).size();
    }
    benchmark::DoNotOptimize(bytes);
  }
  const char* labels[] = {"afresh", "copying the parents' texts", "copying texts read back"};
  state.SetLabel(labels[mode]);
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
BENCHMARK(EncodeChildren)->DenseRange(0, 2)->Unit(benchmark::kMillisecond);
BENCHMARK(Decode)->DenseRange(0, 2)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
