#include "api/rest/bearer.h"

#include <fmt/format.h>

#include "api/http/problem.h"
#include "auth/authorization.h"
#include "observability/log.h"

namespace esp::rest {
namespace {

// The token from "Authorization: Bearer <token>" (RFC 6750).
std::optional<std::string_view> bearer_token(const http::Request& request) {
  auto header = request.raw.find(boost::beast::http::field::authorization);
  if (header == request.raw.end()) return std::nullopt;
  return auth::credentials_for({header->value().data(), header->value().size()}, "Bearer");
}

http::Response refusal(const http::Request& request, http::Status status, std::string challenge,
                       std::string detail) {
  auto response =
      http::problem_response({.status = status, .detail = std::move(detail)}, request.request_id);
  response.set(boost::beast::http::field::www_authenticate, challenge);
  return response;
}

void log_refusal(const http::Request& request, std::string_view reason) {
  log::warn("auth_failed",
            {{"reason", reason}, {"path", request.path}, {"request_id", request.request_id}});
}

}  // namespace

http::Handler protect(const auth::Verifier& verifier, std::optional<auth::Scope> scope,
                      AuthenticatedHandler handler) {
  return [&verifier, scope, handler = std::move(handler)](http::Request& request,
                                                          http::Respond respond) {
    auto token = bearer_token(request);
    if (!token) {
      log_refusal(request, "no bearer token");
      respond(refusal(request, http::Status::unauthorized, R"(Bearer realm="esp")",
                      "a bearer token is required"));
      return;
    }
    auto claims = verifier.verify(*token);
    if (!claims.ok()) {
      log_refusal(request, claims.error().message);
      respond(refusal(
          request, http::Status::unauthorized,
          fmt::format(R"(Bearer realm="esp", error="invalid_token", error_description="{}")",
                      claims.error().message),
          claims.error().message));
      return;
    }
    request.subject = claims->subject;
    if (scope && !claims->scopes.has(*scope)) {
      log_refusal(request, "missing scope " + std::string(auth::name_of(*scope)));
      respond(refusal(request, http::Status::forbidden,
                      fmt::format(R"(Bearer realm="esp", error="insufficient_scope", scope="{}")",
                                  std::string(auth::name_of(*scope))),
                      "this call needs the scope " + std::string(auth::name_of(*scope))));
      return;
    }
    handler(request, *claims, std::move(respond));
  };
}

}  // namespace esp::rest
