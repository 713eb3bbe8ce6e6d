#include "api/http/message.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <nlohmann/json.hpp>

namespace esp::http {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string_view Request::param(std::string_view name) const {
  for (const auto& p : params) {
    if (p.name == name) return p.value;
  }
  return {};
}

std::optional<std::string> Request::query_param(std::string_view name) const {
  std::string_view rest = query;
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    const size_t eq = pair.find('=');
    const auto key = percent_decode(pair.substr(0, eq), true);
    if (!key || *key != name) continue;
    if (eq == std::string_view::npos) return std::string{};
    return percent_decode(pair.substr(eq + 1), true);
  }
  return std::nullopt;
}

std::string peer_address(const Request& request) {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (request.socket < 0 ||
      ::getpeername(request.socket, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    return {};
  std::array<char, INET6_ADDRSTRLEN> text{};
  const void* raw =
      address.ss_family == AF_INET6
          ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(&address)->sin6_addr)
          : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(&address)->sin_addr);
  if (::inet_ntop(address.ss_family, raw, text.data(), text.size()) == nullptr) return {};
  return text.data();
}

bool peer_closed(const Request& request) {
  if (request.socket < 0) return false;
  char byte = 0;
  const auto got = ::recv(request.socket, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (got > 0) return false;  // more bytes (a pipelined request): still there
  if (got == 0) return true;  // the client's FIN
  return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;  // a reset
}

Handler sync(std::function<Response(const Request&)> handler) {
  return [handler = std::move(handler)](Request& request, Respond respond) {
    respond(handler(request));
  };
}

Response text_response(Status status, std::string body, std::string_view content_type) {
  Response response{status, 11};
  response.set(beast_http::field::content_type, content_type);
  response.body() = ResponseBytes(std::move(body));
  return response;
}

Response bytes_response(Status status, std::shared_ptr<const void> owner,
                        std::vector<std::string_view> pieces, std::string_view content_type) {
  Response response{status, 11};
  response.set(beast_http::field::content_type, content_type);
  response.body() = ResponseBytes(std::move(owner), std::move(pieces));
  return response;
}

Response json_response(Status status, const nlohmann::json& body) {
  return text_response(status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                       "application/json");
}

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int high = hex_value(text[i + 1]);
      const int low = hex_value(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      out += static_cast<char>(high * 16 + low);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace esp::http
