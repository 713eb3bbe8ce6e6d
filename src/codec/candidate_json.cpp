#include "codec/candidate_json.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "core/json.h"

namespace esp::codec {

using Json = nlohmann::json;

namespace {

using evolution::CrossoverKind;
using evolution::MutationType;

std::string crossover_code(const evolution::Crossover& crossover) {
  switch (crossover.kind) {
    case CrossoverKind::kUniformWeight:
      return "~CUW~";
    case CrossoverKind::kUniformLayer:
      return "~CUL~";
    case CrossoverKind::kPoints:
      return "~C" + std::to_string(crossover.points) + "PW~";
    case CrossoverKind::kCloneDaddy:
      return "~CCD~";
  }
  return "~C?~";
}

std::string_view mutation_code(MutationType mutation) {
  switch (mutation) {
    case MutationType::kGaussianNoisePercentage:
      return "#MGNP";
    case MutationType::kGaussianNoiseFixed:
      return "#MGNF";
    case MutationType::kUniformReset:
      return "#MUR";
    case MutationType::kNone:
      return "";
  }
  return "";
}

std::vector<std::string> strings_in(const Json& json, std::string_view key) {
  std::vector<std::string> out;
  auto it = json.find(key);
  if (it == json.end() || !it->is_array()) return out;
  for (const auto& item : *it) {
    if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}

int integer_in(const Json& json, std::string_view key, int fallback) {
  auto it = json.find(key);
  return it != json.end() && it->is_number_integer() ? it->get<int>() : fallback;
}

}  // namespace

std::string origin_code(const evolution::Identity& identity) {
  if (identity.parents.empty()) return "(none)";
  std::string origin = identity.parents.front();
  if (identity.crossover) {
    origin += crossover_code(*identity.crossover);
    if (identity.crossover->kind != CrossoverKind::kCloneDaddy && identity.parents.size() > 1)
      origin += identity.parents[1];
  }
  if (identity.mutation) origin += mutation_code(*identity.mutation);
  return origin;
}

std::string identity_json(const evolution::Candidate& candidate, std::string_view experiment_id) {
  const auto& identity = candidate.identity;
  Json json = {{"unique_id", candidate.id},           {"birth_generation", identity.generation},
               {"ancestor_ids", identity.parents},    {"ancestor_count", identity.ancestor_count},
               {"experiment_version", experiment_id}, {"domain_name", nullptr},
               {"origin", origin_code(identity)}};
  if (identity.crossover) json["crossover"] = evolution::name_of(*identity.crossover);
  if (identity.mutation) json["mutation"] = evolution::name_of(*identity.mutation);
  return json.dump();
}

evolution::Identity identity_from_json(std::string_view text) {
  evolution::Identity identity;
  const auto parsed = json::parse(text);
  const Json& json = parsed.value;
  if (!json.is_object()) return identity;
  identity.generation = integer_in(json, "birth_generation", integer_in(json, "generation", 1));
  identity.parents = json.contains("ancestor_ids") ? strings_in(json, "ancestor_ids")
                                                   : strings_in(json, "parents");
  identity.origin =
      identity.parents.empty() ? evolution::Origin::kInitial : evolution::Origin::kOffspring;
  identity.ancestor_count = integer_in(json, "ancestor_count", identity.parents.empty() ? 0 : 1);
  identity.crossover = evolution::crossover_named(json.value("crossover", ""));
  for (auto mutation : {MutationType::kGaussianNoisePercentage, MutationType::kGaussianNoiseFixed,
                        MutationType::kUniformReset, MutationType::kNone}) {
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
