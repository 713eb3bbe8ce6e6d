#include "api/rest/population.h"

#include <fmt/format.h>

#include <boost/asio/post.hpp>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

#include "api/http/problem.h"
#include "api/rest/bearer.h"
#include "api/rest/operation_wait.h"
#include "api/rest/population_json.h"
#include "observability/log.h"

namespace esp::rest {
namespace {

using Json = nlohmann::json;
using population::Caller;
namespace field = boost::beast::http;

constexpr int kDefaultPageSize = 50;
constexpr int kLargestPageSize = 500;

// Validation messages carry "Path:" and "Error:" line pairs (the gRPC contract's format);
// REST adds them as a machine-readable "errors" member too.
http::Response problem(const http::Request& request, const Error& error) {
  auto details = http::problem_from(error, request.request_id);
  Json errors = Json::array();
  std::string_view rest = error.message;
  std::string path;
  while (!rest.empty()) {
    const auto end = rest.find('\n');
    const auto line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    if (line.starts_with("Path: ")) path = line.substr(6);
    if (line.starts_with("Error: ")) errors.push_back({{"path", path}, {"reason", line.substr(7)}});
  }
  if (!errors.empty()) details.extensions["errors"] = std::move(errors);
  return http::problem_response(details, request.request_id);
}

http::Response bad_request(const http::Request& request, std::string detail) {
  return problem(request, Error{Code::kInvalidArgument, std::move(detail)});
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

// The owner named by ?owner= (admins only) or the caller.
Result<std::string> owner_of(const http::Request& request, const Caller& caller) {
  return population::owner_for(caller, request.query_param("owner"));
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
    return bad_request(request, "Invalid experiment\nPath: id\nError: must be a string");
  if (!body.contains("params") || !body["params"].is_object())
    return bad_request(request,
                       "No experiment params supplied\nPath: params\nError: must be an object");
  bool created = false;
  auto experiment = s.records.create(caller.subject, body["id"].get<std::string>(),
                                     body["params"].dump(), created);
  if (!experiment.ok()) return problem(request, experiment.error());
  auto response = http::json_response(created ? http::Status::created : http::Status::ok,
                                      experiment_json(population::ExperimentView{*experiment, {}}));
  response.set(field::field::location, "/v1/experiments/" + experiment->id);
  return response;
}

http::Response list_experiments(const http::Request& request, const Caller& caller,
                                PopulationServices& s) {
  auto page = page_request(request);
  if (!page.ok()) return problem(request, page.error());
  const bool all = request.query_param("all").value_or("") == "true";
  if (all && !caller.admin)
    return problem(request, Error{Code::kPermissionDenied, "all=true needs the scope esp:admin"});
  auto experiments = s.records.list(all ? std::string() : caller.subject, *page);
  if (!experiments.ok()) return problem(request, experiments.error());
  return page_response(*experiments, "experiments",
                       [](const store::Experiment& e) { return experiment_json(e); });
}

http::Response show_experiment(const http::Request& request, const Caller& caller,
                               PopulationServices& s) {
  auto owner = owner_of(request, caller);
  if (!owner.ok()) return problem(request, owner.error());
  auto view = s.records.show(*owner, std::string(request.param("id")));
  if (!view.ok()) return problem(request, view.error());
  return http::json_response(http::Status::ok, experiment_json(*view));
}

http::Response delete_experiment(const http::Request& request, const Caller& caller,
                                 PopulationServices& s) {
  auto removed = s.records.remove(caller.subject, std::string(request.param("id")));
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
  const std::string experiment_id(request.param("id"));
  auto experiment = s.records.show(caller.subject, experiment_id);
  if (!experiment.ok()) return problem(request, experiment.error());
  auto generation =
      generation_request(experiment_id, experiment->experiment.params_json, request.raw.body());
  if (!generation.ok()) return problem(request, generation.error());
  auto job = s.generations.submit(caller, *generation);
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
  auto owner = owner_of(request, caller);
  if (!owner.ok()) return problem(request, owner.error());
  auto page = page_request(request);
  if (!page.ok()) return problem(request, page.error());
  auto checkpoints = s.records.checkpoints(*owner, std::string(request.param("id")), *page);
  if (!checkpoints.ok()) return problem(request, checkpoints.error());
  return page_response(*checkpoints, "checkpoints", checkpoint_summary_json);
}

// JSON by default; the gRPC message itself for "Accept: application/x-protobuf".
http::Response show_checkpoint(const http::Request& request, const Caller& caller,
                               PopulationServices& s) {
  auto owner = owner_of(request, caller);
  if (!owner.ok()) return problem(request, owner.error());
  const std::string experiment_id(request.param("id"));
  auto population =
      s.generations.checkpoint(*owner, experiment_id, std::string(request.param("checkpoint")));
  if (!population.ok()) return problem(request, population.error());
  http::Response response;
  if (header(request, field::field::accept).find("application/x-protobuf") != std::string::npos) {
    response = http::text_response(http::Status::ok, population->SerializeAsString(),
                                   "application/x-protobuf");
  } else {
    response =
        http::json_response(http::Status::ok, codec::population_json(experiment_id, *population));
  }
  response.set(field::field::vary, "Accept");
  return response;
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
        wait_for_operation(
            s.pool, s.generations, s.board,
            Caller{claims.owner, claims.scopes.has(auth::Scope::kAdmin)},
            std::string(request.param("id")), deadline,
            [&request](const Result<store::Job>& job) {
              return job.ok() ? operation_response(http::Status::ok, *job)
                              : problem(request, job.error());
            },
            std::move(respond));
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
  router.add(Verb::get, "/v1/operations/{id}", show_operation(s));
  router.add(Verb::post, "/v1/operations/{id}:cancel", on_pool(s, Scope::kWrite, cancel_operation));
}

}  // namespace esp::rest
