// The JSON a candidate carries besides its weights: identity (how it was made) and
// metrics (filled by the client).
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"
#include "evolution/engine.h"
#include "evolution/ranking.h"

namespace esp::codec {

// The original service's identity: {"unique_id", "birth_generation", "ancestor_ids",
// "ancestor_count", "experiment_version" (the experiment id), "domain_name" (null),
// "origin" (origin_code)}, and esp's readable "crossover"? and "mutation"?.
std::string identity_json(const evolution::Candidate& candidate, std::string_view experiment_id);
// Reads what identity_json wrote (and esp's earlier {"generation", "parents", ...});
// missing members keep their defaults.
evolution::Identity identity_from_json(std::string_view json);

// How the original service writes a candidate's making: "(none)" for a seed; else the
// first parent, the crossover's code and the second parent ("1_4~CUW~1_9"; clone_daddy
// "1_4~CCD~"), then the mutation's ("#MGNP", "#MGNF", "#MUR"; nothing for none).
std::string origin_code(const evolution::Identity& identity);

// A JSON object of metric name -> number; non-numeric members are skipped. Empty bytes
// are no metrics; anything but an object is kInvalidArgument.
Result<evolution::MetricValues> metrics_from_json(std::string_view json);
// The JSON object metrics_from_json reads: an elite's metrics, handed back with it, and
// each candidate's in a job's input.
std::string metrics_json_text(const evolution::MetricValues& metrics);

}  // namespace esp::codec
