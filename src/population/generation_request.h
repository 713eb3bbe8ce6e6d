// What a client asks of a generation, whichever transport it came by: the use cases' own
// types, with nothing of storage or transport (the gRPC request reader and its fuzz target
// build on this alone).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "evolution/ranking.h"

namespace esp::population {

// A candidate's metrics as the client sent them.
struct ScoredCandidate {
  std::string id;
  evolution::MetricValues metrics;
  bool operator==(const ScoredCandidate&) const = default;
};

// The client's scores for the population handed out in one checkpoint.
struct EvaluatedPopulation {
  std::string checkpoint_id;
  // In the order sent, usually the population's own: a candidate left out counts as not
  // evaluated, and of one sent twice the last counts. Not sorted into a map by id, which
  // took 45-50 ms to build at P=100,000 and about as long to read back in the job.
  std::vector<ScoredCandidate> scored;
};

// The interpretations a client sent back with its metrics, while the transport still
// holds its request. A population too large to keep between generations (its genomes
// over --keep-genomes-up-to) is bred from the parents copied out of them, once each is
// found to be exactly what was handed out; the request is let go as soon as they are.
class SentInterpretations {
 public:
  virtual ~SentInterpretations() = default;
  // Candidate `id`'s interpretation: where the request holds it in one piece, a view of
  // it there (as long as this lives), else copied into `scratch`; nullopt when the request
  // had none. Safe to call from several threads at once.
  virtual std::optional<std::string_view> read(std::string_view id, std::string& scratch) const = 0;
};

struct GenerationRequest {
  std::string experiment_id;
  std::optional<std::string> params_json;        // absent: the experiment's stored ones
  std::optional<EvaluatedPopulation> evaluated;  // absent: the seed generation
  std::shared_ptr<const SentInterpretations> interpretations;  // null: none held
};

}  // namespace esp::population
