// HTTP requests from a stranger, read as espd's sessions read them: Beast's parser under
// espd's default limits, then the router, query parameters and percent decoding.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <string_view>

#include "api/http/message.h"
#include "api/http/router.h"
#include "config/http_limits.h"

namespace {

namespace beast_http = boost::beast::http;

const esp::http::Router& router() {
  static const esp::http::Router instance = [] {
    esp::http::Router r;
    auto ok = esp::http::sync([](const esp::http::Request&) {
      return esp::http::text_response(esp::http::Status::ok, "");
    });
    for (const char* pattern :
         {"/healthz", "/v1/experiments", "/v1/experiments/{id}",
          "/v1/experiments/{id}/checkpoints/{checkpoint}", "/v1/operations/{id}",
          "/v1/operations/{id}:cancel", "/ui/{file}"}) {
      r.add(beast_http::verb::get, pattern, ok);
      r.add(beast_http::verb::post, pattern, ok);
    }
    return r;
  }();
  return instance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const esp::http::Limits limits;
  beast_http::request_parser<beast_http::string_body> parser;
  parser.header_limit(limits.max_header_bytes);
  parser.body_limit(limits.max_body_bytes);
  boost::system::error_code ec;
  std::size_t used = 0;
  while (used < size && !parser.is_done()) {
    const auto consumed = parser.put(boost::asio::buffer(data + used, size - used), ec);
    if (ec == beast_http::error::need_more) break;
    if (ec || consumed == 0) return 0;
    used += consumed;
  }
  if (!parser.is_done()) return 0;
  esp::http::Request request;
  request.raw = parser.release();
  const std::string_view target = request.raw.target();
  const auto question = target.find('?');
  request.path = target.substr(0, question);
  request.query =
      question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);
  (void)router().match(request.raw.method(), request.path);
  (void)request.query_param("page_token");
  (void)request.query_param("wait");
  (void)esp::http::percent_decode(request.path, true);
  return 0;
}
