#include "api/rest/health.h"

#include <nlohmann/json.hpp>

#include "api/http/problem.h"

namespace esp::rest {

http::Response healthy(const http::Request&) {
  return http::text_response(http::Status::ok, "Healthy");
}

http::Response liveness(const Services& services) {
  const auto uptime = std::chrono::steady_clock::now() - services.started_at;
  return http::json_response(http::Status::ok,
                             {{"status", "ok"},
                              {"version", services.build.version},
                              {"commit", services.build.commit},
                              {"uptime_seconds", std::chrono::duration<double>(uptime).count()}});
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
