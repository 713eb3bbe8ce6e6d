// The REST surface: one table of method + path -> handler (routes.cpp).
#pragma once

#include <chrono>
#include <string>

#include "api/http/router.h"
#include "api/rest/readiness.h"
#include "observability/metrics.h"

namespace esp::rest {

struct BuildInfo {
  std::string version;
  std::string commit;
};

struct Services {
  BuildInfo build;
  metrics::Registry& metrics;
  Readiness& readiness;
  std::chrono::steady_clock::time_point started_at = std::chrono::steady_clock::now();
};

void add_routes(http::Router& router, Services& services);

}  // namespace esp::rest
