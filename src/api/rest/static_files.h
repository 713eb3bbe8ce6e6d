// Pages espd serves from a folder read once at start (Swagger UI, the dashboard): only
// the files named here, so no path from a request ever reaches the file system.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "api/http/message.h"

namespace esp::rest {

struct StaticFile {
  std::string body;
  std::string content_type;
};

// By name; "" is the folder's index page.
using StaticFiles = std::map<std::string, StaticFile, std::less<>>;

// {file name, content type} pairs.
using StaticFileNames = std::span<const std::pair<std::string_view, std::string_view>>;

// Every named file of `folder`; nullptr when one is missing (logged as `missing_event`,
// the pages then answer 404 saying why).
std::shared_ptr<StaticFiles> load_static_files(const std::filesystem::path& folder,
                                               StaticFileNames names,
                                               std::string_view missing_event);

// 200 with the file, `cache_control` and nosniff.
http::Response static_file_response(const StaticFile& file, std::string_view cache_control);

}  // namespace esp::rest
