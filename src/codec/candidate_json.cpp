#include "codec/candidate_json.h"

#include <charconv>
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

// identity_json runs for every candidate of every generation (100,000 at a time), so it
// writes its text itself: a JSON document of it took 2.5 us a candidate, most of a
// P=100,000 population's encoding. The text is what that document's dump() gave (keys in
// order, no spaces; tested).
namespace {

void put_key(std::string& out, std::string_view key) {
  out += out.size() > 1 ? ",\"" : "\"";
  out += key;
  out += "\":";
}

}  // namespace

std::string identity_json(const evolution::Candidate& candidate, std::string_view experiment_id) {
  const auto& identity = candidate.identity;
  std::string out;
  out.reserve(192);
  out += '{';
  put_key(out, "ancestor_count");
  out += std::to_string(identity.ancestor_count);
  put_key(out, "ancestor_ids");
  out += '[';
  for (std::size_t i = 0; i < identity.parents.size(); ++i) {
    if (i > 0) out += ',';
    json::append_string(out, identity.parents[i]);
  }
  out += ']';
  put_key(out, "birth_generation");
  out += std::to_string(identity.generation);
  if (identity.crossover) {
    put_key(out, "crossover");
    json::append_string(out, evolution::name_of(*identity.crossover));
  }
  put_key(out, "domain_name");
  out += "null";
  put_key(out, "experiment_version");
  json::append_string(out, experiment_id);
  if (identity.mutation) {
    put_key(out, "mutation");
    json::append_string(out, evolution::name_of(*identity.mutation));
  }
  put_key(out, "origin");
  json::append_string(out, origin_code(identity));
  put_key(out, "unique_id");
  json::append_string(out, candidate.id);
  out += '}';
  return out;
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

namespace {

// A JSON number by its grammar (RFC 8259), its value correctly rounded; nullopt for
// anything else, and for a value a double cannot hold (which the document parser reads).
std::optional<double> json_number(std::string_view text, std::size_t& at) {
  const std::size_t start = at;
  const auto digits = [&] {
    const std::size_t first = at;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9')
      ++at;
    return at - first;
  };
  if (at < text.size() && text[at] == '-') ++at;
  if (at < text.size() && text[at] == '0') {
    ++at;
  } else if (digits() == 0) {
    return std::nullopt;
  }
  if (at < text.size() && text[at] == '.') {
    ++at;
    if (digits() == 0) return std::nullopt;
  }
  if (at < text.size() && (text[at] == 'e' || text[at] == 'E')) {
    ++at;
    if (at < text.size() && (text[at] == '+' || text[at] == '-')) ++at;
    if (digits() == 0) return std::nullopt;
  }
  double value = 0;
  const auto [end, error] = std::from_chars(text.data() + start, text.data() + at, value);
  if (error != std::errc() || end != text.data() + at) return std::nullopt;
  return value;
}

// Metrics as clients write them, {"name": number, ...} with plain ASCII names, read
// without a document: every candidate of a generation brings them, 100,000 at a time.
// nullopt for anything else (escapes, other values, nesting, not JSON), which the
// document parser then reads or refuses, so both give the same metrics (tested).
std::optional<evolution::MetricValues> plain_metrics(std::string_view text) {
  std::size_t at = 0;
  const auto skip_space = [&] {
    while (at < text.size() &&
           (text[at] == ' ' || text[at] == '\n' || text[at] == '\r' || text[at] == '\t'))
      ++at;
  };
  const auto next_is = [&](char c) {
    skip_space();
    if (at >= text.size() || text[at] != c) return false;
    ++at;
    return true;
  };
  evolution::MetricValues metrics;
  if (!next_is('{')) return std::nullopt;
  if (!next_is('}')) {
    do {
      if (!next_is('"')) return std::nullopt;
      const std::size_t start = at;
      while (at < text.size() && text[at] != '"' && text[at] != '\\' &&
             static_cast<unsigned char>(text[at]) >= 0x20 &&
             static_cast<unsigned char>(text[at]) < 0x80)
        ++at;
      if (at >= text.size() || text[at] != '"') return std::nullopt;
      const std::string_view name = text.substr(start, at - start);
      ++at;
      if (!next_is(':')) return std::nullopt;
      skip_space();
      auto value = json_number(text, at);
      if (!value) return std::nullopt;
      metrics.insert_or_assign(std::string(name), *value);  // the last of a repeated name
    } while (next_is(','));
    if (!next_is('}')) return std::nullopt;
  }
  skip_space();
  if (at != text.size()) return std::nullopt;
  return metrics;
}

}  // namespace

Result<evolution::MetricValues> metrics_from_json(std::string_view text) {
  evolution::MetricValues metrics;
  if (text.empty()) return metrics;
  if (auto plain = plain_metrics(text)) return std::move(*plain);
  auto parsed = json::parse(text);
  if (!parsed.ok()) return Error{Code::kInvalidArgument, "metrics: " + parsed.issue->to_string()};
  const Json& json = parsed.value;
  if (!json.is_object()) return Error{Code::kInvalidArgument, "metrics must be a JSON object"};
  for (const auto& [name, value] : json.items()) {
    if (value.is_number()) metrics[name] = value.get<double>();
  }
  return metrics;
}

std::string metrics_json_text(const evolution::MetricValues& metrics) {
  std::string out = "{";
  for (const auto& [name, value] : metrics) {
    if (out.size() > 1) out += ',';
    json::append_string(out, name);
    out += ':';
    json::append_number(out, value);  // null (no metric) for what JSON cannot hold
  }
  out += '}';
  return out;
}

}  // namespace esp::codec
