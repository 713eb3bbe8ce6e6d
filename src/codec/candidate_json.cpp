#include "codec/candidate_json.h"

#include <nlohmann/json.hpp>

#include "core/json.h"

namespace esp::codec {

using Json = nlohmann::json;

std::string identity_json(const evolution::Candidate& candidate) {
  const auto& identity = candidate.identity;
  Json json = {{"generation", identity.generation},
               {"origin", evolution::name_of(identity.origin)},
               {"parents", identity.parents},
               {"elite", candidate.elite}};
  if (identity.crossover) json["crossover"] = evolution::name_of(*identity.crossover);
  if (identity.mutation) json["mutation"] = evolution::name_of(*identity.mutation);
  return json.dump();
}

evolution::Identity identity_from_json(std::string_view text) {
  evolution::Identity identity;
  const auto parsed = json::parse(text);
  const Json& json = parsed.value;
  if (!json.is_object()) return identity;
  if (json.contains("generation") && json["generation"].is_number_integer()) {
    identity.generation = json["generation"].get<int>();
  }
  identity.origin = json.value("origin", "") == "offspring" ? evolution::Origin::kOffspring
                                                            : evolution::Origin::kInitial;
  if (json.contains("parents") && json["parents"].is_array()) {
    for (const auto& parent : json["parents"]) {
      if (parent.is_string()) identity.parents.push_back(parent.get<std::string>());
    }
  }
  for (auto crossover : {evolution::Crossover::kUniform, evolution::Crossover::kOnePoint}) {
    if (json.value("crossover", "") == evolution::name_of(crossover))
      identity.crossover = crossover;
  }
  for (auto mutation :
       {evolution::MutationType::kGaussianNoisePercentage,
        evolution::MutationType::kGaussianNoiseFixed, evolution::MutationType::kUniformReset}) {
    if (json.value("mutation", "") == evolution::name_of(mutation)) identity.mutation = mutation;
  }
  return identity;
}

Result<evolution::MetricValues> metrics_from_json(std::string_view text) {
  evolution::MetricValues metrics;
  if (text.empty()) return metrics;
  auto parsed = json::parse(text);
  if (!parsed.ok()) return Error{Code::kInvalidArgument, "metrics: " + parsed.issue->to_string()};
  const Json& json = parsed.value;
  if (!json.is_object()) return Error{Code::kInvalidArgument, "metrics must be a JSON object"};
  for (const auto& [name, value] : json.items()) {
    if (value.is_number()) metrics[name] = value.get<double>();
  }
  return metrics;
}

}  // namespace esp::codec
