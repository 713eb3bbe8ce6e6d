#include "api/rest/static_files.h"

#include <fstream>
#include <sstream>

#include "observability/log.h"

namespace esp::rest {

std::shared_ptr<StaticFiles> load_static_files(const std::filesystem::path& folder,
                                               StaticFileNames names,
                                               std::string_view missing_event) {
  auto files = std::make_shared<StaticFiles>();
  for (const auto& [name, type] : names) {
    std::ifstream file(folder / name, std::ios::binary);
    if (!file) {
      log::warn(missing_event,
                {{"folder", folder.string()}, {"file", name}, {"detail", "the pages answer 404"}});
      return nullptr;
    }
    std::stringstream bytes;
    bytes << file.rdbuf();
    (*files)[std::string(name)] = {bytes.str(), std::string(type)};
  }
  return files;
}

http::Response static_file_response(const StaticFile& file, std::string_view cache_control) {
  namespace field = boost::beast::http;
  auto response = http::text_response(http::Status::ok, file.body, file.content_type);
  response.set(field::field::cache_control, cache_control);
  response.set("X-Content-Type-Options", "nosniff");
  return response;
}

}  // namespace esp::rest
