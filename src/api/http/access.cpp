#include "api/http/access.h"

#include <array>

#include "observability/log.h"

namespace esp::http {
namespace {

// Unmatched paths share one label so scanners cannot blow up the series count.
constexpr std::string_view kUnmatchedRoute = "unmatched";

}  // namespace

AccessRecorder::AccessRecorder(metrics::Registry& registry)
    : requests_(registry.counter("esp_http_requests_total", "HTTP requests answered.",
                                 {"method", "route", "status"})),
      durations_(
          registry.histogram("esp_http_request_duration_seconds",
                             "Time from the first byte of a request to the end of its response.",
                             {"method", "route"}, metrics::latency_buckets_seconds())),
      in_flight_(registry.gauge("esp_http_requests_in_flight", "HTTP requests being served.", {})
                     .with({})) {}

void AccessRecorder::on_request_started() {
  in_flight_.inc();
}

void AccessRecorder::on_request_abandoned() {
  in_flight_.dec();
}

void AccessRecorder::on_exchange(const Exchange& exchange) {
  in_flight_.dec();
  const std::string_view route = exchange.route.empty() ? kUnmatchedRoute : exchange.route;
  const std::string_view method = exchange.method.empty() ? "-" : exchange.method;
  const std::string status = std::to_string(exchange.status);
  const double seconds = std::chrono::duration<double>(exchange.duration).count();
  requests_.with({method, route, status}).inc();
  durations_.with({method, route}).observe(seconds);

  // The path only: query strings can carry credentials.
  const std::array<log::Field, 8> fields{{{"method", method},
                                          {"path", exchange.path},
                                          {"status", exchange.status},
                                          {"duration_ms", seconds * 1000.0},
                                          {"request_id", exchange.request_id},
                                          {"bytes_in", exchange.request_body_bytes},
                                          {"bytes_out", exchange.response_body_bytes},
                                          {"subject", exchange.subject}}};
  const size_t count = exchange.subject.empty() ? fields.size() - 1 : fields.size();
  log::write(log::Level::kInfo, "request", std::span(fields).first(count));
}

}  // namespace esp::http
