#include "api/rest/bearer.h"

#include <gtest/gtest.h>

#include "auth/issuer.h"

namespace esp::rest {
namespace {

struct Protected {
  auth::Key key = *auth::Key::generate(auth::Algorithm::kES256);
  auth::TokenIssuer issuer{"https://esp.test/", "esp", {key}, std::chrono::seconds(600)};
  auth::Verifier verifier{{issuer.trusted()}};
  bool handled = false;
  http::Handler write_route =
      protect(verifier, auth::Scope::kWrite,
              [this](http::Request&, const auth::Claims&, http::Respond respond) {
                handled = true;
                respond(http::text_response(http::Status::ok, "done"));
              });

  http::Response call(std::string authorization, http::Request* seen = nullptr) {
    http::Request request;
    if (!authorization.empty())
      request.raw.set(boost::beast::http::field::authorization, authorization);
    http::Response answer;
    write_route(request, [&answer](http::Response response) { answer = std::move(response); });
    if (seen != nullptr) *seen = request;
    return answer;
  }
  std::string token(const char* scopes) {
    return issuer.issue("alice", auth::Scopes::parse(scopes))->token;
  }
};

std::string www_authenticate(const http::Response& response) {
  return std::string(response[boost::beast::http::field::www_authenticate]);
}

TEST(Protect, AllowsATokenWithTheRoutesScopeAndNamesTheCaller) {
  Protected p;
  http::Request seen;
  auto answer = p.call("Bearer " + p.token("esp:read esp:write"), &seen);
  EXPECT_EQ(answer.result(), http::Status::ok);
  EXPECT_TRUE(p.handled);
  EXPECT_EQ(seen.subject, "alice");
  EXPECT_EQ(p.call("bearer " + p.token("all:esp")).result(),
            http::Status::ok);  // scheme is case-insensitive
}

TEST(Protect, RefusesAReadOnlyTokenOnAWriteRouteWith403) {
  Protected p;
  auto answer = p.call("Bearer " + p.token("esp:read"));
  EXPECT_EQ(answer.result(), http::Status::forbidden);
  EXPECT_FALSE(p.handled);
  EXPECT_EQ(www_authenticate(answer),
            R"(Bearer realm="esp", error="insufficient_scope", scope="esp:write")");
  EXPECT_EQ(answer[boost::beast::http::field::content_type], "application/problem+json");
}

TEST(Protect, RefusesMissingAndInvalidTokensWith401) {
  Protected p;
  for (const char* authorization : {"", "Basic YWxpY2U6cHc=", "Bearer", "Bearer x.y.z"}) {
    auto answer = p.call(authorization);
    EXPECT_EQ(answer.result(), http::Status::unauthorized) << authorization;
    EXPECT_TRUE(www_authenticate(answer).starts_with(R"(Bearer realm="esp")")) << authorization;
  }
  EXPECT_NE(www_authenticate(p.call("Bearer x.y.z")).find(R"(error="invalid_token")"),
            std::string::npos);
  EXPECT_FALSE(p.handled);
}

}  // namespace
}  // namespace esp::rest
