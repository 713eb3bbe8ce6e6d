// What handlers see and return: one HTTP request with its route parameters,
// and a Beast response.
#pragma once

#include <boost/beast/http.hpp>
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/http/body.h"

namespace esp::http {

namespace beast_http = boost::beast::http;
using Verb = beast_http::verb;
using Status = beast_http::status;
using RawRequest = beast_http::request<beast_http::string_body>;
using Response = beast_http::response<ResponseBody>;

struct PathParam {
  std::string_view name;  // points into the router's pattern
  std::string value;      // percent-decoded
};

struct Request {
  RawRequest raw;
  std::string_view path;   // target up to '?', a view into raw
  std::string_view query;  // after '?', undecoded
  std::string_view route;  // the matched pattern, for logs and metrics
  std::vector<PathParam> params;
  std::string request_id;
  std::string subject;  // set once the caller is authenticated
  int socket = -1;      // the connection's descriptor, open until the response is sent

  std::string_view param(std::string_view name) const;
  // The first value of a query parameter, percent-decoded.
  std::optional<std::string> query_param(std::string_view name) const;
};

// Completes a request. Call exactly once, from any thread; the Request stays
// valid until then.
using Respond = std::function<void(Response)>;
using Handler = std::function<void(Request&, Respond)>;

// The client's IP address, empty when unknown.
std::string peer_address(const Request& request);
// Whether the client has closed (or reset) the connection while its request waited:
// work for it can be dropped. Never blocks; pipelined bytes count as open.
bool peer_closed(const Request& request);

// Adapts a handler that can answer at once.
Handler sync(std::function<Response(const Request&)> handler);

Response text_response(Status status, std::string body,
                       std::string_view content_type = "text/plain; charset=utf-8");

Response json_response(Status status, const nlohmann::json& body);

// Bytes held by `owner` (a population's), sent in their pieces without being copied.
Response bytes_response(Status status, std::shared_ptr<const void> owner,
                        std::vector<std::string_view> pieces, std::string_view content_type);

// Decodes %XX escapes (and '+' as space when `plus_is_space`); nullopt when malformed.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space = false);

}  // namespace esp::http
