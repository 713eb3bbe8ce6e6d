#include "api/rest/population.h"

#include <fmt/format.h>

#include <boost/asio/post.hpp>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <thread>

#include "api/http/problem.h"
#include "api/rest/bearer.h"
#include "api/rest/population_json.h"
#include "observability/log.h"

namespace esp::rest {
namespace {

using Json = nlohmann::json;
using population::Caller;
namespace field = boost::beast::http;

constexpr int kDefaultPageSize = 50;
constexpr int kLargestPageSize = 500;

// A request that failed validation also gets its issues as a machine-readable "errors"
// member: [{path, reason}].
http::Response problem(const http::Request& request, const Error& error) {
  auto details = http::problem_from(error, request.request_id);
  if (!error.issues.empty()) {
    Json errors = Json::array();
    for (const auto& issue : error.issues)
      errors.push_back({{"path", issue.path}, {"reason", issue.reason}});
    details.extensions["errors"] = std::move(errors);
  }
  return http::problem_response(details, request.request_id);
}

http::Response bad_request(const http::Request& request, std::string detail,
                           std::vector<Issue> issues = {}) {
  return problem(request, Error{Code::kInvalidArgument, std::move(detail), std::move(issues)});
}

std::string header(const http::Request& request, field::field name) {
  auto it = request.raw.find(name);
  return it == request.raw.end() ? std::string() : std::string(it->value());
}

std::optional<int> integer(const std::string& text) {
  int value = 0;
  auto [end, failure] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (failure != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

Result<store::PageRequest> page_request(const http::Request& request) {
  store::PageRequest page{.after = request.query_param("page_token").value_or(""),
                          .limit = kDefaultPageSize};
  if (auto size = request.query_param("page_size")) {
    auto value = integer(*size);
    if (!value || *value < 1 || *value > kLargestPageSize)
      return Error{Code::kInvalidArgument,
                   fmt::format("page_size must be an integer from 1 to {}", kLargestPageSize)};
    page.limit = *value;
  }
  return page;
}

template <typename Record, typename ToJson>
http::Response page_response(const store::Page<Record>& page, std::string_view member,
                             ToJson to_json) {
  Json items = Json::array();
  for (const auto& item : page.items)
    items.push_back(to_json(item));
  Json body{{member, std::move(items)}};
  if (!page.next.empty()) body["next_page_token"] = page.next;
  return http::json_response(http::Status::ok, body);
}

// Another owner's records, for an esp:admin caller (population::owner_for).
std::optional<std::string> owner_named(const http::Request& request) {
  return request.query_param("owner");
}

using CallerHandler =
    std::function<http::Response(const http::Request&, const Caller&, PopulationServices&)>;

// Verifies the token for `scope`, then runs `handler` on the storage pool.
http::Handler on_pool(PopulationServices& services, auth::Scope scope, CallerHandler handler) {
  return protect(services.verifier, scope,
                 [&services, handler = std::move(handler)](
                     http::Request& request, const auth::Claims& claims, http::Respond respond) {
                   Caller caller{claims.owner, claims.scopes.has(auth::Scope::kAdmin)};
                   boost::asio::post(services.pool, [&services, &request, handler, caller,
                                                     respond = std::move(respond)] {
                     try {
                       respond(handler(request, caller, services));
                     } catch (const std::exception& e) {
                       log::error("handler_failed", {{"path", request.path},
                                                     {"detail", e.what()},
                                                     {"request_id", request.request_id}});
                       respond(problem(request, Error{Code::kInternal, "internal error"}));
                     }
                   });
                 });
}

http::Response create_experiment(const http::Request& request, const Caller& caller,
                                 PopulationServices& s) {
  auto parsed = parse_body(request.raw.body());
  if (!parsed.ok()) return problem(request, parsed.error());
  const Json& body = *parsed;
  if (!body.is_object() || !body.contains("id") || !body["id"].is_string())
    return bad_request(request, "Invalid experiment", {{"id", "must be a string"}});
  if (!body.contains("params") || !body["params"].is_object())
    return bad_request(request, "No experiment params supplied", {{"params", "must be an object"}});
  auto stored = s.records.create(caller, body["id"].get<std::string>(), body["params"].dump());
  if (!stored.ok()) return problem(request, stored.error());
  population::ExperimentView view{stored->experiment, {}};
  if (!stored->created) {
    // One that existed answers as GET shows it, with its newest checkpoint, so a client
    // that creates-or-opens goes on from there.
    auto shown = s.records.show(caller, std::nullopt, stored->experiment.id);
    if (!shown.ok()) return problem(request, shown.error());
    view = *std::move(shown);
  }
  auto response = http::json_response(stored->created ? http::Status::created : http::Status::ok,
                                      experiment_json(view));
  response.set(field::field::location, "/v1/experiments/" + stored->experiment.id);
  return response;
}

http::Response list_experiments(const http::Request& request, const Caller& caller,
                                PopulationServices& s) {
  auto page = page_request(request);
  if (!page.ok()) return problem(request, page.error());
  const bool all = request.query_param("all").value_or("") == "true";
  auto experiments = s.records.list(caller, all, *page);
  if (!experiments.ok()) return problem(request, experiments.error());
  return page_response(*experiments, "experiments",
                       [](const store::Experiment& e) { return experiment_json(e); });
}

http::Response show_experiment(const http::Request& request, const Caller& caller,
                               PopulationServices& s) {
  auto view = s.records.show(caller, owner_named(request), std::string(request.param("id")));
  if (!view.ok()) return problem(request, view.error());
  return http::json_response(http::Status::ok, experiment_json(*view));
}

http::Response delete_experiment(const http::Request& request, const Caller& caller,
                                 PopulationServices& s) {
  auto removed = s.records.remove(caller, std::string(request.param("id")));
  if (!removed.ok()) return problem(request, removed.error());
  return http::Response{http::Status::no_content, 11};
}

http::Response operation_response(http::Status status, const store::Job& job) {
  auto response = http::json_response(status, operation_json(job));
  response.set(field::field::location, "/v1/operations/" + job.id);
  return response;
}

http::Response submit_generation(const http::Request& request, const Caller& caller,
                                 PopulationServices& s) {
  auto generation = generation_request(std::string(request.param("id")), request.raw.body());
  if (!generation.ok()) return problem(request, generation.error());
  auto job = s.generations.submit(caller, std::move(*generation));
  if (!job.ok()) return problem(request, job.error());
  return operation_response(http::Status::accepted, *job);
}

http::Response cancel_operation(const http::Request& request, const Caller& caller,
                                PopulationServices& s) {
  auto job = s.generations.cancel(caller, std::string(request.param("id")));
  if (!job.ok()) return problem(request, job.error());
  return operation_response(http::Status::ok, *job);
}

http::Response list_checkpoints(const http::Request& request, const Caller& caller,
                                PopulationServices& s) {
  auto page = page_request(request);
  if (!page.ok()) return problem(request, page.error());
  auto checkpoints =
      s.records.checkpoints(caller, owner_named(request), std::string(request.param("id")), *page);
  if (!checkpoints.ok()) return problem(request, checkpoints.error());
  return page_response(*checkpoints, "checkpoints", checkpoint_summary_json);
}

http::Response list_operations(const http::Request& request, const Caller& caller,
                               PopulationServices& s) {
  auto page = page_request(request);
  if (!page.ok()) return problem(request, page.error());
  auto jobs =
      s.records.operations(caller, owner_named(request), std::string(request.param("id")), *page);
  if (!jobs.ok()) return problem(request, jobs.error());
  return page_response(*jobs, "operations",
                       [](const store::Job& job) { return operation_json(job); });
}

// Every generation's statistics from the checkpoint records alone: one query, no payload.
http::Response show_statistics(const http::Request& request, const Caller& caller,
                               PopulationServices& s) {
  const std::string experiment_id(request.param("id"));
  auto summaries = s.records.summaries(caller, owner_named(request), experiment_id);
  if (!summaries.ok()) return problem(request, summaries.error());
  return http::json_response(http::Status::ok, statistics_json(experiment_id, *summaries));
}

// JSON by default; the gRPC message itself for "Accept: application/x-protobuf".
// ?interpretations=false leaves the networks out (empty), for views of ids, identity
// and metrics such as the dashboard's.
http::Response show_checkpoint(const http::Request& request, const Caller& caller,
                               PopulationServices& s) {
  const std::string experiment_id(request.param("id"));
  const auto interpretations = request.query_param("interpretations").value_or("true");
  if (interpretations != "true" && interpretations != "false")
    return bad_request(request, "interpretations must be true or false",
                       {{"interpretations", "must be true or false"}});
  const bool protobuf =
      header(request, field::field::accept).find("application/x-protobuf") != std::string::npos;
  // The body depends on Accept, which caches must key on.
  const auto varying = [](http::Response response) {
    response.set(field::field::vary, "Accept");
    return response;
  };
  // With the networks, from the bytes the gRPC answer is rather than a parsed message: at
  // P=100,000 in the SDK's JSON the message and its candidates' texts were 3.7 GB of fresh
  // pages.
  const std::string checkpoint_id(request.param("checkpoint"));
  if (interpretations == "true" && protobuf) {
    auto bytes =
        s.generations.checkpoint_bytes(caller, owner_named(request), experiment_id, checkpoint_id);
    if (!bytes.ok()) return problem(request, bytes.error());
    return varying(http::bytes_response(http::Status::ok, std::move(bytes->owner),
                                        std::move(bytes->pieces), "application/x-protobuf"));
  }
  if (interpretations == "true") {
    auto view =
        s.generations.checkpoint_view(caller, owner_named(request), experiment_id, checkpoint_id);
    if (!view.ok()) return problem(request, view.error());
    auto written = codec::population_json_pieces(
        experiment_id, view->population.others, view->population.candidates,
        std::max(1U, std::thread::hardware_concurrency()), view->interpretation);
    if (!written.ok()) return problem(request, written.error());
    auto pieces = std::make_shared<const std::vector<std::string>>(std::move(*written));
    std::vector<std::string_view> texts(pieces->begin(), pieces->end());
    return varying(http::bytes_response(http::Status::ok, std::move(pieces), std::move(texts),
                                        "application/json"));
  }
  auto population =
      s.generations.checkpoint(caller, owner_named(request), experiment_id, checkpoint_id,
                               population::Generations::Interpretations::kLeftOut);
  if (!population.ok()) return problem(request, population.error());
  if (protobuf) {
    return varying(http::text_response(http::Status::ok, population->SerializeAsString(),
                                       "application/x-protobuf"));
  }
  return varying(http::text_response(http::Status::ok,
                                     codec::population_json_text(experiment_id, *population),
                                     "application/json"));
}

// GET /v1/operations/{id}[?wait=SECONDS]: at once, or when the operation ends.
http::Handler show_operation(PopulationServices& s) {
  return protect(
      s.verifier, auth::Scope::kRead,
      [&s](http::Request& request, const auth::Claims& claims, http::Respond respond) {
        double wait_seconds = 0;
        if (auto wait = request.query_param("wait")) {
          auto [end, failure] =
              std::from_chars(wait->data(), wait->data() + wait->size(), wait_seconds);
          if (failure != std::errc() || end != wait->data() + wait->size() || wait_seconds < 0 ||
              !std::isfinite(wait_seconds)) {
            respond(bad_request(request, "wait must be a number of seconds from 0 to 60"));
            return;
          }
        }
        const auto wait = std::min(std::chrono::duration<double>(wait_seconds),
                                   std::chrono::duration<double>(s.longest_wait));
        const auto deadline = std::chrono::steady_clock::now() +
                              std::chrono::duration_cast<std::chrono::steady_clock::duration>(wait);
        s.generations.when_ended(
            Caller{claims.owner, claims.scopes.has(auth::Scope::kAdmin)},
            std::string(request.param("id")), deadline,
            [&request, respond = std::move(respond)](const Result<store::Job>& job) {
              respond(job.ok() ? operation_response(http::Status::ok, *job)
                               : problem(request, job.error()));
            });
      });
}

}  // namespace

void add_population_routes(http::Router& router, PopulationServices& services) {
  using http::Verb;
  using Scope = auth::Scope;
  auto& s = services;
  router.add(Verb::post, "/v1/experiments", on_pool(s, Scope::kWrite, create_experiment));
  router.add(Verb::get, "/v1/experiments", on_pool(s, Scope::kRead, list_experiments));
  router.add(Verb::get, "/v1/experiments/{id}", on_pool(s, Scope::kRead, show_experiment));
  router.add(Verb::delete_, "/v1/experiments/{id}", on_pool(s, Scope::kWrite, delete_experiment));
  router.add(Verb::post, "/v1/experiments/{id}/generations",
             on_pool(s, Scope::kWrite, submit_generation));
  router.add(Verb::get, "/v1/experiments/{id}/checkpoints",
             on_pool(s, Scope::kRead, list_checkpoints));
  router.add(Verb::get, "/v1/experiments/{id}/checkpoints/{checkpoint...}",
             on_pool(s, Scope::kRead, show_checkpoint));
  router.add(Verb::get, "/v1/experiments/{id}/stats", on_pool(s, Scope::kRead, show_statistics));
  router.add(Verb::get, "/v1/experiments/{id}/operations",
             on_pool(s, Scope::kRead, list_operations));
  router.add(Verb::get, "/v1/operations/{id}", show_operation(s));
  router.add(Verb::post, "/v1/operations/{id}:cancel", on_pool(s, Scope::kWrite, cancel_operation));
}

}  // namespace esp::rest
