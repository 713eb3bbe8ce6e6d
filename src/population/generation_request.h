// What a client asks of a generation, whichever transport it came by: the use cases' own
// types, with nothing of storage or transport (the gRPC request reader and its fuzz target
// build on this alone).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "evolution/ranking.h"

namespace esp::population {

// The client's scores for the population handed out in one checkpoint.
struct EvaluatedPopulation {
  std::string checkpoint_id;
  // By candidate id; a candidate left out counts as not evaluated.
  std::map<std::string, evolution::MetricValues, std::less<>> metrics;
};

struct GenerationRequest {
  std::string experiment_id;
  std::optional<std::string> params_json;        // absent: the experiment's stored ones
  std::optional<EvaluatedPopulation> evaluated;  // absent: the seed generation
};

}  // namespace esp::population
