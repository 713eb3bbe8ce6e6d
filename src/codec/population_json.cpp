#include "codec/population_json.h"

#include <algorithm>
#include <optional>

#include "core/base64url.h"
#include "core/json.h"
#include "evolution/parallel.h"

namespace esp::codec {

using Json = nlohmann::json;

Json embedded_json(std::string_view bytes) {
  // Stored before bounds were enforced, a hostile document comes back as its text.
  auto parsed = json::parse(bytes);
  return parsed.ok() ? std::move(parsed.value) : Json(std::string(bytes));
}

Json population_json(const std::string& experiment_id,
                     const ::population::PopulationResponse& population) {
  Json candidates = Json::array();
  for (const auto& candidate : population.population()) {
    Json entry{{"id", candidate.id()},
               {"interpretation", base64_encode(candidate.interpretation())},
               {"identity", embedded_json(candidate.identity())}};
    if (!candidate.metrics().empty()) entry["metrics"] = embedded_json(candidate.metrics());
    candidates.push_back(std::move(entry));
  }
  Json json{{"experiment_id", experiment_id},
            {"checkpoint_id", population.checkpoint_id()},
            {"generation", population.generation_count()},
            {"population", std::move(candidates)}};
  if (!population.evaluation_stats().empty())
    json["evaluation_stats"] = embedded_json(population.evaluation_stats());
  return json;
}

std::string population_json_text(const std::string& experiment_id,
                                 const ::population::PopulationResponse& population) {
  std::vector<CandidateView> candidates;
  candidates.reserve(static_cast<std::size_t>(population.population_size()));
  for (const auto& candidate : population.population()) {
    candidates.push_back({.id = candidate.id(),
                          .interpretation = candidate.interpretation(),
                          .metrics = candidate.metrics(),
                          .identity = candidate.identity()});
  }
  return population_json_text(experiment_id, population, candidates);
}

namespace {

// As json_response writes a document: bytes that are not UTF-8 become U+FFFD.
std::string text(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// At least the text of `candidates` (their base64 and fields, with room for the names).
std::size_t text_size(std::span<const CandidateView> candidates,
                      const Interpretation& interpretation = {}) {
  std::size_t size = 0;
  for (const CandidateView& candidate : candidates) {
    const std::size_t bytes =
        interpretation.write ? interpretation.largest : candidate.interpretation.size();
    size += 64 + candidate.id.size() + candidate.identity.size() + candidate.metrics.size() +
            (bytes + 2) / 3 * 4;
  }
  return size;
}

// Members in the order nlohmann's objects (sorted maps) write them, up to the population's
// opening bracket.
void append_head(std::string& out, const std::string& experiment_id,
                 const ::population::PopulationResponse& population) {
  out += "{\"checkpoint_id\":";
  out += text(Json(population.checkpoint_id()));
  if (!population.evaluation_stats().empty()) {
    out += ",\"evaluation_stats\":";
    out += text(embedded_json(population.evaluation_stats()));
  }
  out += ",\"experiment_id\":";
  out += text(Json(experiment_id));
  out += ",\"generation\":";
  out += std::to_string(population.generation_count());
  out += ",\"population\":[";
}

constexpr std::string_view kTail = "]}";

// Candidates [begin, end) of the population's array, the first one after a comma unless
// it is the array's first; each interpretation through `interpretation` when given.
std::optional<Error> append_candidates(std::string& out, std::span<const CandidateView> candidates,
                                       std::size_t begin, std::size_t end,
                                       const Interpretation& interpretation = {}) {
  std::string buffer;
  for (std::size_t i = begin; i < end; ++i) {
    const CandidateView& candidate = candidates[i];
    std::string_view bytes = candidate.interpretation;
    if (interpretation.write) {
      auto written = interpretation.write(candidate, buffer);
      if (!written.ok()) return written.error();
      bytes = *written;
    }
    out += i == 0 ? "{\"id\":" : ",{\"id\":";
    out += text(Json(candidate.id));
    out += ",\"identity\":";
    out += text(embedded_json(candidate.identity));
    out += ",\"interpretation\":\"";
    out += base64_encode(bytes);
    out += '"';
    if (!candidate.metrics.empty()) {
      out += ",\"metrics\":";
      out += text(embedded_json(candidate.metrics));
    }
    out += '}';
  }
  return std::nullopt;
}

}  // namespace

std::string population_json_text(const std::string& experiment_id,
                                 const ::population::PopulationResponse& population,
                                 std::span<const CandidateView> candidates) {
  std::string out;
  out.reserve(256 + population.evaluation_stats().size() + text_size(candidates));
  append_head(out, experiment_id, population);
  append_candidates(out, candidates, 0, candidates.size());  // no interpretation to fail
  out += kTail;
  return out;
}

Result<std::vector<std::string>> population_json_pieces(
    const std::string& experiment_id, const ::population::PopulationResponse& population,
    std::span<const CandidateView> candidates, unsigned threads,
    const Interpretation& interpretation) {
  // A run of at least 1 MiB of text (about 1 ms), so a small document starts no thread.
  const std::size_t runs =
      std::min<std::size_t>(evolution::threads_for_work(text_size(candidates, interpretation),
                                                        std::size_t{1} << 20, threads),
                            std::max<std::size_t>(candidates.size(), 1));
  std::vector<std::string> pieces(runs + 2);
  std::vector<std::optional<Error>> failures(runs);
  append_head(pieces.front(), experiment_id, population);
  auto write_run = [&](std::size_t run) {
    const std::size_t begin = candidates.size() * run / runs;
    const std::size_t end = candidates.size() * (run + 1) / runs;
    std::string& out = pieces[run + 1];
    out.reserve(text_size(candidates.subspan(begin, end - begin), interpretation));
    failures[run] = append_candidates(out, candidates, begin, end, interpretation);
  };
  evolution::parallel_for(runs, static_cast<unsigned>(runs),
                          [&](std::size_t first, std::size_t last) {
                            for (std::size_t run = first; run < last; ++run)
                              write_run(run);
                          });
  for (auto& failure : failures) {
    if (failure) return std::move(*failure);
  }
  pieces.back() = kTail;
  return pieces;
}

Result<::population::PopulationResponse> population_from_json(const Json& json) {
  auto invalid = [](const std::string& what) {
    return Error{Code::kInvalidArgument, "not a population file: " + what};
  };
  if (!json.is_object()) return invalid("expected a JSON object");
  if (!json.contains("population") || !json["population"].is_array())
    return invalid("\"population\" must be an array");
  ::population::PopulationResponse population;
  population.set_checkpoint_id(json.value("checkpoint_id", ""));
  population.set_generation_count(json.value("generation", 0));
  for (std::size_t i = 0; i < json["population"].size(); ++i) {
    const Json& entry = json["population"][i];
    const std::string at = "population[" + std::to_string(i) + "]";
    if (!entry.is_object() || !entry.contains("id") || !entry["id"].is_string())
      return invalid(at + ".id must be a string");
    auto* candidate = population.add_population();
    candidate->set_id(entry["id"].get<std::string>());
    if (auto weights = entry.find("interpretation"); weights != entry.end()) {
      auto bytes = weights->is_string() ? base64_decode(weights->get<std::string>()) : std::nullopt;
      if (!bytes) return invalid(at + ".interpretation must be base64");
      candidate->set_interpretation(*bytes);
    }
    if (auto identity = entry.find("identity"); identity != entry.end())
      candidate->set_identity(identity->is_string() ? identity->get<std::string>()
                                                    : identity->dump());
    if (auto metrics = entry.find("metrics"); metrics != entry.end()) {
      if (!metrics->is_object()) return invalid(at + ".metrics must be an object");
      candidate->set_metrics(metrics->dump());
    }
  }
  return population;
}

}  // namespace esp::codec
