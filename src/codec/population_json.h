// A population as JSON, the form REST answers with and the CLI reads and writes:
// {"experiment_id", "checkpoint_id", "generation", "population": [{"id",
// "interpretation" (standard base64), "identity", "metrics"?}], "evaluation_stats"?}.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "population_structs.pb.h"

namespace esp::codec {

// A JSON member stored as bytes: parsed back when it is JSON, kept as text otherwise.
nlohmann::json embedded_json(std::string_view bytes);

nlohmann::json population_json(const std::string& experiment_id,
                               const ::population::PopulationResponse& population);

// The same document's text (population_json(...).dump()), written straight into one
// string: no document of every candidate and its base64 first. For populations of
// gigabytes that is two copies fewer.
std::string population_json_text(const std::string& experiment_id,
                                 const ::population::PopulationResponse& population);

// A candidate's fields where they lie: in a message, or in its bytes.
struct CandidateView {
  std::string_view id;
  std::string_view interpretation;
  std::string_view metrics;
  std::string_view identity;
};

// The same text of `candidates` and the rest of `population` (its own candidates left
// out): a population read from its bytes without being parsed into a message first.
std::string population_json_text(const std::string& experiment_id,
                                 const ::population::PopulationResponse& population,
                                 std::span<const CandidateView> candidates);

// A candidate's interpretation as the document is to carry it, from the bytes its view
// holds: written into `buffer`, or an error naming what did not read.
struct Interpretation {
  std::function<Result<std::string_view>(const CandidateView& candidate, std::string& buffer)>
      write;
  std::size_t largest = 0;  // the most bytes `write` gives for one candidate
};

// The same text in pieces, sent one after another and never joined: the document's head,
// runs of candidates written side by side on up to `threads` threads (one per MiB of
// text), and its closing brackets. At P=100,000 in the SDK's JSON the document is 2.2 GB.
// With `interpretation`, each candidate's is written through it (a checkpoint stored in
// another representation than the experiment's); the first error it gives is the answer.
Result<std::vector<std::string>> population_json_pieces(
    const std::string& experiment_id, const ::population::PopulationResponse& population,
    std::span<const CandidateView> candidates, unsigned threads,
    const Interpretation& interpretation = {});

// The message back from that JSON (metrics as filled in by a client); kInvalidArgument
// names the first bad member.
Result<::population::PopulationResponse> population_from_json(const nlohmann::json& json);

}  // namespace esp::codec
