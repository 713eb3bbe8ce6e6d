#include "api/rest/docs.h"

#include <memory>

#include "api/http/problem.h"
#include "api/rest/static_files.h"

namespace esp::rest {
namespace {

namespace field = boost::beast::http;

// The files of swagger-ui-dist the page needs, and nothing else: no path from the
// request ever reaches the file system.
constexpr std::pair<std::string_view, std::string_view> kAssets[] = {
    {"swagger-ui.css", "text/css; charset=utf-8"},
    {"swagger-ui-bundle.js", "text/javascript; charset=utf-8"},
    {"swagger-ui-standalone-preset.js", "text/javascript; charset=utf-8"},
    {"oauth2-redirect.html", "text/html; charset=utf-8"},
    {"favicon-32x32.png", "image/png"},
    {"favicon-16x16.png", "image/png"},
};

constexpr std::string_view kIndex = R"html(<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>esp API</title>
  <link rel="stylesheet" href="swagger-ui.css">
  <link rel="icon" type="image/png" href="favicon-32x32.png" sizes="32x32">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="swagger-ui-bundle.js"></script>
  <script src="swagger-ui-standalone-preset.js"></script>
  <script src="index.js"></script>
</body>
</html>
)html";

// Served as a file so the page needs no inline script.
constexpr std::string_view kIndexScript = R"js(window.ui = SwaggerUIBundle({
  url: "../openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: "StandaloneLayout"
});
)js";

std::shared_ptr<const StaticFiles> load_assets(const std::filesystem::path& folder) {
  auto assets = load_static_files(folder, kAssets, "swagger_ui_missing");
  if (assets == nullptr) return nullptr;
  (*assets)["index.js"] = {std::string(kIndexScript), "text/javascript; charset=utf-8"};
  (*assets)[""] = {std::string(kIndex), "text/html; charset=utf-8"};
  return assets;
}

}  // namespace

void add_docs_routes(http::Router& router, const std::filesystem::path& ui_dir) {
  using http::Verb;
  router.add(Verb::get, "/openapi.json", http::sync([](const http::Request&) {
               auto response = http::text_response(http::Status::ok, std::string(kOpenApiJson),
                                                   "application/json");
               response.set(field::field::access_control_allow_origin, "*");
               return response;
             }));
  router.add(Verb::get, "/ui", http::sync([](const http::Request&) {
               auto response = http::text_response(http::Status::moved_permanently, "");
               response.set(field::field::location, "/ui/");
               return response;
             }));
  auto serve = [assets = load_assets(ui_dir)](const http::Request& request) {
    const auto name = request.param("file");
    if (assets == nullptr) {
      return http::problem_response(
          {.status = http::Status::not_found,
           .detail = "Swagger UI is not installed on this server (build with npm, or set "
                     "--ui-dir); the spec is at /openapi.json"},
          request.request_id);
    }
    auto asset = assets->find(name);
    if (asset == assets->end())
      return http::problem_response({.status = http::Status::not_found}, request.request_id);
    return static_file_response(asset->second, "public, max-age=3600");
  };
  router.add(Verb::get, "/ui/", http::sync(serve));
  router.add(Verb::get, "/ui/{file}", http::sync(serve));
}

}  // namespace esp::rest
