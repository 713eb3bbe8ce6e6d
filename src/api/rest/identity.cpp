#include "api/rest/identity.h"

#include <fmt/format.h>

#include <map>
#include <nlohmann/json.hpp>

#include "api/http/problem.h"
#include "api/rest/bearer.h"
#include "auth/authorization.h"
#include "core/base64url.h"
#include "core/json.h"

namespace esp::rest {
namespace {

using Json = nlohmann::json;
using Fields = std::map<std::string, std::string, std::less<>>;

// Credentials are a few short strings; a larger body is refused before it is parsed.
constexpr std::size_t kMaxIdentityBodyBytes = 64 << 10;

// Token answers must not be cached anywhere (RFC 6749 section 5.1).
http::Response no_store(http::Response response) {
  response.set(boost::beast::http::field::cache_control, "no-store");
  response.set(boost::beast::http::field::pragma, "no-cache");
  return response;
}

std::string_view header(const http::Request& request, boost::beast::http::field field) {
  auto it = request.raw.find(field);
  return it == request.raw.end() ? std::string_view()
                                 : std::string_view(it->value().data(), it->value().size());
}

bool is_json(const http::Request& request) {
  return header(request, boost::beast::http::field::content_type).starts_with("application/json");
}

// String members of a JSON object body, or the fields of a form body; nullopt if malformed.
std::optional<Fields> body_fields(const http::Request& request) {
  Fields fields;
  const std::string& body = request.raw.body();
  if (is_json(request)) {
    auto parsed = json::parse(body, {.max_bytes = kMaxIdentityBodyBytes});
    if (!parsed.ok() || !parsed.value.is_object()) return std::nullopt;
    const Json& json = parsed.value;
    for (const auto& [key, value] : json.items()) {
      if (value.is_string()) fields[key] = value.get<std::string>();
    }
    return fields;
  }
  std::size_t start = 0;
  while (start < body.size()) {
    std::size_t end = body.find('&', start);
    if (end == std::string::npos) end = body.size();
    std::string_view pair(body.data() + start, end - start);
    auto equals = pair.find('=');
    auto key = http::percent_decode(pair.substr(0, equals), true);
    auto value =
        http::percent_decode(equals == std::string_view::npos ? "" : pair.substr(equals + 1), true);
    if (!key || !value) return std::nullopt;
    if (!key->empty()) fields[*key] = *value;
    start = end + 1;
  }
  return fields;
}

// 429 or 503 problem+json with Retry-After.
http::Response retry_later(const http::Request& request, http::Status status,
                           std::chrono::seconds wait, std::string_view what) {
  auto response = http::problem_response(
      {.status = status, .detail = fmt::format("{}; retry after {} s", what, wait.count())},
      request.request_id);
  response.set(boost::beast::http::field::retry_after, std::to_string(wait.count()));
  return response;
}

// 429 while `account` has used up its failed attempts, before any hashing.
std::optional<http::Response> account_resting(const IdentityServices& services,
                                              const http::Request& request,
                                              const std::string& account) {
  auto wait = services.guard.failures_per_account.check(account);
  if (!wait) return std::nullopt;
  services.guard.turned_away.with({"account_limit"}).inc();
  return retry_later(request, http::Status::too_many_requests, *wait,
                     "too many failed sign-ins for this account");
}

// Counts a wrong password or secret against the account.
void count_failure(const IdentityServices& services, const std::string& account,
                   const Result<auth::Principal>& principal) {
  if (!principal.ok() && principal.error().code == Code::kUnauthenticated)
    services.guard.failures_per_account.take(account);
}

std::string field(const Fields& fields, std::string_view name) {
  auto it = fields.find(name);
  return it == fields.end() ? std::string() : it->second;
}

// RFC 6749 section 5.2 error answers.
http::Response oauth_error(http::Status status, std::string_view error,
                           std::string_view description) {
  return no_store(
      http::json_response(status, {{"error", error}, {"error_description", description}}));
}

struct ClientCredentials {
  std::string id;
  std::string secret;
  bool from_basic = false;
};

// HTTP Basic (RFC 6749 section 2.3.1: id and secret form-encoded, then base64) or body fields.
std::optional<ClientCredentials> client_credentials(const http::Request& request,
                                                    const Fields& fields) {
  auto basic =
      auth::credentials_for(header(request, boost::beast::http::field::authorization), "Basic");
  if (basic) {
    auto decoded = base64_decode(*basic);
    if (!decoded) return std::nullopt;
    auto colon = decoded->find(':');
    if (colon == std::string::npos) return std::nullopt;
    auto id = http::percent_decode(std::string_view(*decoded).substr(0, colon), true);
    auto secret = http::percent_decode(std::string_view(*decoded).substr(colon + 1), true);
    if (!id || !secret) return std::nullopt;
    return ClientCredentials{*id, *secret, true};
  }
  return ClientCredentials{field(fields, "client_id"), field(fields, "client_secret"), false};
}

http::Response token_answer(const IdentityServices& services, const auth::Principal& principal,
                            auth::Scopes scopes) {
  auto token = services.issuer.issue(principal.subject, scopes, principal.email);
  if (!token.ok())
    return oauth_error(http::Status::internal_server_error, "server_error", token.error().message);
  return no_store(http::json_response(http::Status::ok, {{"access_token", token->token},
                                                         {"token_type", "Bearer"},
                                                         {"expires_in", token->expires_in},
                                                         {"scope", token->scope}}));
}

// The grant's scopes: all of the principal's, or the requested subset (none left: invalid_scope).
std::optional<auth::Scopes> granted_scopes(const Fields& fields, auth::Scopes allowed) {
  auto requested = fields.find("scope");
  if (requested == fields.end() || requested->second.empty()) return allowed;
  auto granted = auth::Scopes::parse(requested->second) & allowed;
  if (granted.empty()) return std::nullopt;
  return granted;
}

http::Response oauth_token(const IdentityServices& services, const http::Request& request) {
  auto fields = body_fields(request);
  if (!fields)
    return oauth_error(http::Status::bad_request, "invalid_request",
                       "the body is not a form or JSON object");
  const std::string grant = field(*fields, "grant_type");
  if (grant.empty())
    return oauth_error(http::Status::bad_request, "invalid_request", "grant_type is required");
  if (auto audience = field(*fields, "audience");
      !audience.empty() && audience != services.issuer.audience()) {
    return oauth_error(http::Status::bad_request, "invalid_request", "unknown audience");
  }
  Result<auth::Principal> principal = Error{Code::kUnauthenticated, ""};
  if (grant == "client_credentials") {
    auto credentials = client_credentials(request, *fields);
    if (!credentials || credentials->id.empty() || credentials->secret.empty()) {
      return oauth_error(http::Status::unauthorized, "invalid_client",
                         "client_id and client_secret are required");
    }
    if (auto resting = account_resting(services, request, credentials->id)) return *resting;
    principal = services.accounts.check_client(credentials->id, credentials->secret);
    count_failure(services, credentials->id, principal);
    if (!principal.ok()) {
      if (principal.error().code != Code::kUnauthenticated) {
        return oauth_error(http::Status::internal_server_error, "server_error",
                           "could not check the client");
      }
      auto answer =
          oauth_error(http::Status::unauthorized, "invalid_client", principal.error().message);
      if (credentials->from_basic)
        answer.set(boost::beast::http::field::www_authenticate, R"(Basic realm="esp")");
      return answer;
    }
  } else if (grant == "password") {
    const std::string username = field(*fields, "username");
    const std::string password = field(*fields, "password");
    if (username.empty() || password.empty()) {
      return oauth_error(http::Status::bad_request, "invalid_request",
                         "username and password are required");
    }
    if (auto resting = account_resting(services, request, username)) return *resting;
    principal = services.accounts.check_user(username, password);
    count_failure(services, username, principal);
    if (!principal.ok()) {
      if (principal.error().code != Code::kUnauthenticated) {
        return oauth_error(http::Status::internal_server_error, "server_error",
                           "could not check the user");
      }
      return oauth_error(http::Status::bad_request, "invalid_grant", principal.error().message);
    }
  } else {
    return oauth_error(http::Status::bad_request, "unsupported_grant_type",
                       "grant_type must be client_credentials or password");
  }
  auto scopes = granted_scopes(*fields, principal->scopes);
  if (!scopes)
    return oauth_error(http::Status::bad_request, "invalid_scope",
                       "none of the requested scopes is granted");
  return token_answer(services, *principal, *scopes);
}

// The simple JWT app's contract: {"email", "password"} in, {"token"} out.
http::Response login(const IdentityServices& services, const http::Request& request) {
  auto parsed = json::parse(request.raw.body(), {.max_bytes = kMaxIdentityBodyBytes});
  const Json& body = parsed.value;
  const bool complete = body.is_object() && body.contains("email") && body["email"].is_string() &&
                        body.contains("password") && body["password"].is_string();
  if (!complete) {
    return http::problem_response({.status = http::Status::bad_request,
                                   .detail = "a JSON body with email and password is required"},
                                  request.request_id);
  }
  const auto& email = body["email"].get_ref<const std::string&>();
  if (auto resting = account_resting(services, request, email)) return *resting;
  auto principal = services.accounts.check_user(email, body["password"].get<std::string>());
  count_failure(services, email, principal);
  if (!principal.ok()) {
    auto status = principal.error().code == Code::kUnauthenticated
                      ? http::Status::unauthorized
                      : http::Status::internal_server_error;
    return http::problem_response({.status = status, .detail = principal.error().message},
                                  request.request_id);
  }
  auto token = services.issuer.issue(principal->subject, principal->scopes, principal->email);
  if (!token.ok())
    return http::problem_response(http::problem_from(token.error(), request.request_id),
                                  request.request_id);
  return no_store(http::json_response(http::Status::ok, {{"token", token->token}}));
}

http::Response openid_configuration(const IdentityServices& services) {
  const std::string& base = services.issuer.issuer();
  const std::string root = base.ends_with("/") ? base : base + "/";
  Json algorithms = Json::array();
  const Json jwks = services.issuer.jwks();
  for (const auto& key : jwks["keys"])
    algorithms.push_back(key["alg"]);
  auto response = http::json_response(
      http::Status::ok,
      {{"issuer", base},
       {"jwks_uri", root + ".well-known/jwks.json"},
       {"token_endpoint", root + "oauth/token"},
       {"grant_types_supported", {"client_credentials", "password"}},
       {"token_endpoint_auth_methods_supported", {"client_secret_basic", "client_secret_post"}},
       {"response_types_supported", {"token"}},
       {"scopes_supported", {"esp:read", "esp:write", "esp:admin", "all:esp"}},
       {"id_token_signing_alg_values_supported", algorithms}});
  response.set(boost::beast::http::field::cache_control, "public, max-age=300");
  return response;
}

// Runs `answer` (it hashes passwords) on the guard's pool, within the address's attempt
// limit; a full queue answers 503 at once, and a client gone by its turn costs no hashing.
http::Handler guarded(IdentityServices& services,
                      http::Response (*answer)(const IdentityServices&, const http::Request&)) {
  return [&services, answer](http::Request& request, http::Respond respond) {
    auto& guard = services.guard;
    if (auto wait = guard.per_address.take(http::peer_address(request))) {
      guard.turned_away.with({"address_limit"}).inc();
      return respond(retry_later(request, http::Status::too_many_requests, *wait,
                                 "too many sign-in attempts from this address"));
    }
    const bool queued = guard.hashing.try_post([&services, &request, answer, respond] {
      if (http::peer_closed(request)) {
        services.guard.turned_away.with({"client_gone"}).inc();
        return respond(retry_later(request, http::Status::service_unavailable,
                                   std::chrono::seconds(1), "the client closed the connection"));
      }
      respond(answer(services, request));
    });
    if (!queued) {
      guard.turned_away.with({"queue_full"}).inc();
      respond(retry_later(request, http::Status::service_unavailable, std::chrono::seconds(1),
                          "too many sign-ins are being checked"));
    }
  };
}

}  // namespace

void add_identity_routes(http::Router& router, IdentityServices& services) {
  using http::Verb;
  auto& s = services;
  // Open: token issuance and discovery.
  router.add(Verb::post, "/auth", guarded(s, login));
  router.add(Verb::post, "/oauth/token", guarded(s, oauth_token));
  router.add(Verb::get, "/.well-known/jwks.json", http::sync([&s](const http::Request&) {
               auto response = http::json_response(http::Status::ok, s.issuer.jwks());
               response.set(boost::beast::http::field::cache_control, "public, max-age=300");
               return response;
             }));
  router.add(Verb::get, "/.well-known/openid-configuration",
             http::sync([&s](const http::Request&) { return openid_configuration(s); }));
  // Any valid token: its own claims.
  router.add(Verb::get, "/contents",
             protect(s.verifier, std::nullopt,
                     [](http::Request&, const auth::Claims& claims, http::Respond respond) {
                       respond(http::json_response(http::Status::ok, claims.all));
                     }));
}

}  // namespace esp::rest
