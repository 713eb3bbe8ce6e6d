#include "api/rest/dashboard.h"

#include <memory>

#include "api/http/problem.h"
#include "api/rest/static_files.h"

namespace esp::rest {
namespace {

namespace field = boost::beast::http;

constexpr std::pair<std::string_view, std::string_view> kFiles[] = {
    {"index.html", "text/html; charset=utf-8"},
    {"dashboard.js", "text/javascript; charset=utf-8"},
    {"dashboard.css", "text/css; charset=utf-8"},
    {"echarts.min.js", "text/javascript; charset=utf-8"},
};

// Scripts and styles from these files only (no inline script, no eval), calls to this
// origin only, and never framed: a token in sessionStorage is reachable by no other code.
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

}  // namespace

void add_dashboard_routes(http::Router& router, const std::filesystem::path& folder) {
  using http::Verb;
  router.add(Verb::get, "/dashboard", http::sync([](const http::Request&) {
               auto response = http::text_response(http::Status::moved_permanently, "");
               response.set(field::field::location, "/dashboard/");
               return response;
             }));
  std::shared_ptr<const StaticFiles> files;
  if (auto loaded = load_static_files(folder, kFiles, "dashboard_missing")) {
    (*loaded)[""] = (*loaded)["index.html"];
    files = std::move(loaded);
  }
  auto serve = [files](const http::Request& request) {
    if (files == nullptr) {
      return http::problem_response(
          {.status = http::Status::not_found,
           .detail = "the dashboard is not installed on this server (build with npm, or set "
                     "--dashboard-dir)"},
          request.request_id);
    }
    const auto name = request.param("file");
    auto file = files->find(name);
    if (file == files->end())
      return http::problem_response({.status = http::Status::not_found}, request.request_id);
    // The pages change with espd; ECharts only with its version.
    auto response = static_file_response(
        file->second, name == "echarts.min.js" ? "public, max-age=3600" : "no-cache");
    response.set("Content-Security-Policy", kContentSecurityPolicy);
    response.set("X-Frame-Options", "DENY");
    response.set("Referrer-Policy", "no-referrer");
    return response;
  };
  router.add(Verb::get, "/dashboard/", http::sync(serve));
  router.add(Verb::get, "/dashboard/{file}", http::sync(serve));
}

}  // namespace esp::rest
