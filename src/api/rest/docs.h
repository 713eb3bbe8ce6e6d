// The API's documentation, open to everyone: GET /openapi.json (api/openapi.yaml,
// embedded at build time) and Swagger UI at /ui/ over it.
#pragma once

#include <filesystem>
#include <string_view>

#include "api/http/router.h"

namespace esp::rest {

extern const std::string_view kOpenApiJson;

// `ui_dir` holds the swagger-ui-dist package; without it /ui/ answers 404 saying why.
void add_docs_routes(http::Router& router, const std::filesystem::path& ui_dir);

}  // namespace esp::rest
