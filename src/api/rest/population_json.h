// The population service's records as REST JSON (api/openapi.yaml), and the generation
// request body as the use case's request.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "codec/population_json.h"
#include "core/error.h"
#include "core/json.h"
#include "population/experiments.h"
#include "population/generations.h"
#include "store/population.h"

namespace esp::rest {

// RFC 3339 UTC with milliseconds, e.g. "2026-11-23T09:30:00.125Z".
std::string rfc3339(std::int64_t unix_millis);

nlohmann::json experiment_json(const store::Experiment& experiment);
nlohmann::json experiment_json(const population::ExperimentView& view);
// {id, experiment_id, status, stages: [{name, at}], attempts, result? | error?}
nlohmann::json operation_json(const store::Job& job);
nlohmann::json checkpoint_summary_json(const store::Checkpoint& checkpoint);
// {"experiment_id", "generations": [{"generation", "bred_checkpoint", "at", "objectives",
// "fronts", ...}]}: each evaluated generation's summary, from the checkpoints bred from it.
nlohmann::json statistics_json(const std::string& experiment_id,
                               const std::vector<store::GenerationSummary>& summaries);

// A request body parsed within json::Limits (depth, size); kInvalidArgument naming the path
// where it went wrong.
Result<nlohmann::json> parse_body(std::string_view body);

// {"checkpoint_id", "population": [{"id", "metrics"}...], "params"?} -> the use case's
// request; an empty body asks for the seed with the experiment's stored parameters.
// kInvalidArgument names the JSON path.
Result<population::GenerationRequest> generation_request(const std::string& experiment_id,
                                                         std::string_view body);

}  // namespace esp::rest
