#include "api/rest/population_json.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace esp::rest {
namespace {

using Json = nlohmann::json;
using codec::embedded_json;

Error invalid_body(std::string path, std::string reason) {
  return Error{
      Code::kInvalidArgument, "Invalid generation request", {{std::move(path), std::move(reason)}}};
}

}  // namespace

Result<Json> parse_body(std::string_view body) {
  auto parsed = json::parse(body, {.max_bytes = body.size()});
  if (parsed.ok()) return std::move(parsed.value);
  return Error{Code::kInvalidArgument, "the body is not acceptable JSON", {*parsed.issue}};
}

std::string rfc3339(std::int64_t unix_millis) {
  const std::chrono::sys_time<std::chrono::milliseconds> at{std::chrono::milliseconds(unix_millis)};
  const auto seconds = std::chrono::floor<std::chrono::seconds>(at);
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z",
                     fmt::gmtime(std::chrono::system_clock::to_time_t(seconds)),
                     (at - seconds).count());
}

Json experiment_json(const store::Experiment& experiment) {
  return {{"id", experiment.id},
          {"owner", experiment.owner},
          {"params", embedded_json(experiment.params_json)},
          {"created_at", rfc3339(experiment.created_at)}};
}

Json experiment_json(const population::ExperimentView& view) {
  Json json = experiment_json(view.experiment);
  json["generation"] = view.latest ? view.latest->generation : 0;
  if (view.latest) json["latest_checkpoint"] = view.latest->checkpoint_id;
  return json;
}

Json statistics_json(const std::string& experiment_id,
                     const std::vector<store::GenerationSummary>& summaries) {
  Json generations = Json::array();
  for (const auto& row : summaries) {
    if (row.stats_json.empty()) continue;  // the seed, or a checkpoint older than summaries
    Json entry = embedded_json(row.stats_json);
    if (!entry.is_object()) continue;
    entry["generation"] = row.generation - 1;
    entry["bred_checkpoint"] = row.checkpoint_id;
    entry["at"] = rfc3339(row.created_at);
    generations.push_back(std::move(entry));
  }
  return {{"experiment_id", experiment_id}, {"generations", std::move(generations)}};
}

Json operation_json(const store::Job& job) {
  Json stages = Json::array({{{"name", "queued"}, {"at", rfc3339(job.created_at)}}});
  if (job.started_at != 0) stages.push_back({{"name", "running"}, {"at", rfc3339(job.started_at)}});
  const bool ended =
      job.status != store::JobStatus::kQueued && job.status != store::JobStatus::kRunning;
  if (ended)
    stages.push_back({{"name", store::name_of(job.status)}, {"at", rfc3339(job.finished_at)}});
  Json json{{"id", job.id},
            {"experiment_id", job.experiment_id},
            {"status", store::name_of(job.status)},
            {"stages", stages},
            {"attempts", job.attempts}};
  if (!job.source_checkpoint.empty()) json["source_checkpoint"] = job.source_checkpoint;
  if (job.status == store::JobStatus::kSucceeded) {
    json["result"] = {{"checkpoint_id", job.result_checkpoint},
                      {"generation", job.result_generation}};
  }
  if (job.status == store::JobStatus::kFailed) {
    const Error failure = population::failure_of(job);
    json["error"] = {{"code", code_name(failure.code)}, {"message", failure.message}};
  }
  return json;
}

Json checkpoint_summary_json(const store::Checkpoint& checkpoint) {
  return {{"id", checkpoint.checkpoint_id},
          {"generation", checkpoint.generation},
          {"operation", checkpoint.job_id},
          {"size_bytes", checkpoint.size_bytes},
          {"created_at", rfc3339(checkpoint.created_at)}};
}

Result<population::GenerationRequest> generation_request(const std::string& experiment_id,
                                                         std::string_view body) {
  population::GenerationRequest request{.experiment_id = experiment_id};
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return request;

  auto parsed = parse_body(body);
  if (!parsed.ok()) return parsed.error();
  const Json& json = *parsed;
  if (!json.is_object()) return invalid_body("$", "must be a JSON object");
  if (auto params = json.find("params"); params != json.end()) {
    if (!params->is_object()) return invalid_body("params", "must be an object");
    request.params_json = params->dump();
  }
  const auto checkpoint = json.find("checkpoint_id");
  const auto population = json.find("population");
  if (checkpoint == json.end() && population == json.end()) return request;
  if (checkpoint == json.end() || !checkpoint->is_string())
    return invalid_body("checkpoint_id", "the checkpoint the population was evaluated from");
  if (population == json.end() || !population->is_array())
    return invalid_body("population", "must be an array of {id, metrics}");

  auto& evaluated = request.evaluated.emplace();
  evaluated.checkpoint_id = checkpoint->get<std::string>();
  for (std::size_t i = 0; i < population->size(); ++i) {
    const Json& candidate = (*population)[i];
    const auto path = fmt::format("population[{}]", i);
    if (!candidate.is_object() || !candidate.contains("id") || !candidate["id"].is_string())
      return invalid_body(path + ".id", "must be the candidate's id");
    const auto metrics = candidate.find("metrics");
    if (metrics == candidate.end() || !metrics->is_object())
      return invalid_body(path + ".metrics", "must be an object of metric name to number");
    auto& values =
        evaluated.scored
            .emplace_back(population::ScoredCandidate{.id = candidate["id"].get<std::string>()})
            .metrics;
    for (const auto& [name, value] : metrics->items()) {
      if (!value.is_number()) return invalid_body(path + ".metrics." + name, "must be a number");
      values[name] = value.get<double>();
    }
  }
  return request;
}

}  // namespace esp::rest
