// The dashboard at /dashboard/: static pages (web/dashboard and ECharts) that call the
// REST API with the user's bearer token. The pages hold no data, so they answer without a
// token, as the docs do; every call they make needs one.
#pragma once

#include <filesystem>

#include "api/http/router.h"

namespace esp::rest {

// `folder` holds the assembled dashboard (the build's web/dashboard); without it
// /dashboard/ answers 404 saying why.
void add_dashboard_routes(http::Router& router, const std::filesystem::path& folder);

}  // namespace esp::rest
