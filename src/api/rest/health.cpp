#include "api/rest/health.h"

#include <fmt/format.h>

#include <iterator>
#include <nlohmann/json.hpp>

#include "api/http/problem.h"
#include "core/json.h"
#include "observability/log.h"

namespace esp::rest {

http::Response healthy(const http::Request&) {
  return http::text_response(http::Status::ok, "Healthy");
}

// Written by hand rather than through a JSON tree: probes and load balancers call this
// many times a second, and it is the route the HTTP benchmark measures.
http::Response liveness(const Services& services) {
  const auto uptime = std::chrono::steady_clock::now() - services.started_at;
  std::string body = R"({"status":"ok","version":)";
  json::append_string(body, services.build.version);
  body += R"(,"commit":)";
  json::append_string(body, services.build.commit);
  fmt::format_to(std::back_inserter(body), R"(,"uptime_seconds":{:.3f}}})",
                 std::chrono::duration<double>(uptime).count());
  return http::text_response(http::Status::ok, std::move(body), "application/json");
}

http::Response readiness(const Services& services, const http::Request& request) {
  const auto report = services.readiness.report();
  nlohmann::json checks = nlohmann::json::object();
  std::string failures;
  for (const auto& check : report.checks) {
    checks[check.name] = check.failure ? *check.failure : "ok";
    if (check.failure)
      failures += (failures.empty() ? "" : "; ") + check.name + ": " + *check.failure;
  }
  if (report.ready)
    return http::json_response(http::Status::ok, {{"status", "ready"}, {"checks", checks}});
  http::Problem problem{.status = http::Status::service_unavailable,
                        .detail = report.shutting_down ? "shutting down" : failures};
  problem.extensions = {{"checks", checks}, {"shutting_down", report.shutting_down}};
  return http::problem_response(problem, request.request_id);
}

http::Response prometheus_metrics(const Services& services) {
  return http::text_response(http::Status::ok, services.metrics.render(),
                             "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace esp::rest
