// The JSON a candidate carries besides its weights: identity (how it was made) and
// metrics (filled by the client).
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"
#include "evolution/engine.h"
#include "evolution/ranking.h"

namespace esp::codec {

// {"generation", "origin", "parents", "crossover"?, "mutation"?, "elite"}.
std::string identity_json(const evolution::Candidate& candidate);
// Reads what identity_json wrote; missing members keep their defaults.
evolution::Identity identity_from_json(std::string_view json);

// A JSON object of metric name -> number; non-numeric members are skipped. Empty bytes
// are no metrics; anything but an object is kInvalidArgument.
Result<evolution::MetricValues> metrics_from_json(std::string_view json);

}  // namespace esp::codec
