#include "population/job_size.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "codec/keras_h5.h"
#include "codec/keras_model.h"
#include "codec/weight_texts.h"
#include "evolution/network.h"

namespace esp::population {
namespace {

// A candidate's id, identity JSON and protobuf framing.
constexpr std::uint64_t kCandidateOverheadBytes = 512;
// A weight's shortest text and its comma, as long as a weight's usually is at most
// ("-1.2345678e-38,"); only weights of 10^15 and more take up to 18. A population whose
// text does pass protobuf's 2 GiB is still refused, when it is written.
constexpr std::uint64_t kJsonBytesPerWeight = 15;
// What libhdf5 writes around the datasets: superblock, root and model_weights groups, and
// per layer a group (two for a Dense: Keras' "<layer>/kernel" nests one) with its
// symbol-table node and heap (measured: 6 KB, then 0.8 KB a layer, beside the config).
constexpr std::uint64_t kH5FileBytes = 8192;
constexpr std::uint64_t kH5BytesPerLayer = 1024;

std::uint64_t binary_interpretation_bytes(const evolution::NetworkShape& shape) {
  return 12 + 12 * shape.layers().size() + sizeof(float) * shape.weight_count();
}

// One candidate's interpretation in the experiment's representation.
std::uint64_t interpretation_bytes(const evolution::ExperimentParams& params,
                                   const evolution::NetworkShape& shape) {
  const std::uint64_t weights = shape.weight_count();
  const auto& representation = params.leaf.representation;
  if (representation == "NNWeights")
    return codec::model_config(params.network).dump().size() + 64 + kJsonBytesPerWeight * weights;
  if (representation == "KerasNN") {
    const std::uint64_t model_layers = codec::model_config(params.network)["layers"].size();
    return codec::legacy_model_config(params.network).size() + kH5FileBytes +
           kH5BytesPerLayer * model_layers + sizeof(float) * weights;
  }
  return binary_interpretation_bytes(shape);
}

// The text of every parent's weights, kept while a GA population is written in the SDK's
// JSON, which copies from them (population_bytes.cpp): parents come from the best
// candidates, remove_population_pct of the worst left out, and the elites.
std::uint64_t parent_texts_bytes(const evolution::ExperimentParams& params,
                                 std::uint64_t candidates, std::uint64_t weights) {
  const auto& evolution = params.evolution;
  if (params.leaf.representation != "NNWeights" || evolution.algorithm != evolution::Algorithm::kGa)
    return 0;
  const auto removed = static_cast<std::uint64_t>(
      std::floor(static_cast<double>(candidates) * evolution.remove_population_pct));
  const std::uint64_t parents =
      std::max({candidates - std::min(removed, candidates), std::uint64_t{1},
                static_cast<std::uint64_t>(std::max(evolution.nb_elites, 0))});
  return parents * codec::WeightTexts::slots_bytes(weights);
}

}  // namespace

JobSize estimate_job_size(const evolution::ExperimentParams& params) {
  const evolution::NetworkShape shape(params.network);
  // CMA-ES restarts double the population: the job is sized for the last one.
  const std::uint64_t candidates = evolution::largest_population(params.evolution);
  const std::uint64_t genomes = candidates * shape.weight_count() * sizeof(float);
  const std::uint64_t message =
      candidates * (interpretation_bytes(params, shape) + kCandidateOverheadBytes);
  // At the peak of a NextPopulation call: the source and the new genomes; the request as
  // received (the client sends every candidate back); the population's bytes, stored and
  // answered from one block, with room to spare; in another representation also the
  // answer (in a block sized for the most it can take, of which the written part and up to
  // a quarter more is touched) and the stored bytes. Measured
  // with bench/population on 2026-12-02 (espd's whole RSS): P=1000 W=10k and P=100k W=1.1k
  // peaked at 237 MiB and 2.1 GiB in binary (estimated 0.23 and 2.7 GiB), 577 MiB and
  // 7.2 GiB in JSON (estimated 0.9 and 11 GiB).
  const bool binary = params.leaf.representation == "NNWeightsBinary";
  const std::uint64_t stored =
      binary ? 0 : candidates * (binary_interpretation_bytes(shape) + kCandidateOverheadBytes);
  return {.candidates = candidates,
          .message_bytes = message,
          .peak_bytes = 2 * genomes + (binary ? 4 : 5) * message + 2 * stored +
                        parent_texts_bytes(params, candidates, shape.weight_count())};
}

std::optional<Error> check_job_size(const evolution::ExperimentParams& params,
                                    std::uint64_t max_memory_bytes) {
  const auto size = estimate_job_size(params);
  constexpr auto kLargestMessage = static_cast<std::uint64_t>(std::numeric_limits<int>::max());
  if (size.peak_bytes > max_memory_bytes) {
    return Error{
        Code::kResourceExhausted,
        fmt::format("a generation of {} candidates needs about {} of memory, over this "
                    "server's {} for one generation (--max-generation-memory)",
                    size.candidates, human_bytes(size.peak_bytes), human_bytes(max_memory_bytes))};
  }
  if (size.message_bytes > kLargestMessage) {
    return Error{Code::kResourceExhausted,
                 fmt::format("a population of {} candidates would be a {} message, over "
                             "protobuf's 2 GiB limit; use fewer candidates or a smaller network",
                             size.candidates, human_bytes(size.message_bytes))};
  }
  return std::nullopt;
}

std::string human_bytes(std::uint64_t bytes) {
  constexpr std::array kUnits = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB"};
  auto value = static_cast<double>(bytes);
  std::size_t unit = 0;
  while (value >= 1024 && unit + 1 < kUnits.size()) {
    value /= 1024;
    ++unit;
  }
  return unit == 0 ? fmt::format("{} bytes", bytes) : fmt::format("{:.1f} {}", value, kUnits[unit]);
}

}  // namespace esp::population
