#include "api/rest/routes.h"

#include "api/rest/health.h"

namespace esp::rest {

void add_routes(http::Router& router, Services& services) {
  using http::sync;
  using http::Verb;
  const auto& s = services;

  // Open to everyone: health, readiness and metrics.
  router.add(Verb::get, "/", sync(healthy));
  router.add(Verb::post, "/", sync(healthy));
  router.add(Verb::get, "/healthz", sync([&s](const http::Request&) { return liveness(s); }));
  router.add(Verb::get, "/readyz", sync([&s](const http::Request& r) { return readiness(s, r); }));
  router.add(Verb::get, "/metrics",
             sync([&s](const http::Request&) { return prometheus_metrics(s); }));
}

}  // namespace esp::rest
