#include "api/http/problem.h"

#include <gtest/gtest.h>

namespace esp::http {
namespace {

TEST(Problem, RendersRfc7807MembersAndRequestId) {
  const auto body = nlohmann::json::parse(render_problem(
      {.status = Status::payload_too_large, .detail = "request body exceeds 1024 bytes"}, "req-1"));
  EXPECT_EQ(body["type"], "about:blank");
  EXPECT_EQ(body["title"], "Payload Too Large");
  EXPECT_EQ(body["status"], 413);
  EXPECT_EQ(body["detail"], "request body exceeds 1024 bytes");
  EXPECT_EQ(body["request_id"], "req-1");
}

TEST(Problem, ResponseHasProblemJsonContentTypeAndStatus) {
  const auto response = problem_response({.status = Status::not_found, .detail = "x"}, "");
  EXPECT_EQ(response.result(), Status::not_found);
  EXPECT_EQ(response[beast_http::field::content_type], "application/problem+json");
  EXPECT_FALSE(nlohmann::json::parse(response.body().text()).contains("request_id"));
}

TEST(Problem, ExtensionsAreMergedButCannotOverrideStandardMembers) {
  Problem problem{.status = Status::bad_request, .detail = "2 problems"};
  problem.extensions = {{"errors", {{{"path", "evolution.nb_elites"}, {"reason", "too big"}}}},
                        {"status", 999}};
  const auto body = nlohmann::json::parse(render_problem(problem, "id"));
  EXPECT_EQ(body["status"], 400);
  EXPECT_EQ(body["errors"][0]["path"], "evolution.nb_elites");
}

TEST(Problem, MapsErrorCodesToHttpStatuses) {
  EXPECT_EQ(problem_from({Code::kInvalidArgument, "bad"}, "req-1").status, Status::bad_request);
  EXPECT_EQ(problem_from({Code::kNotFound, "gone"}, "req-1").status, Status::not_found);
  EXPECT_EQ(problem_from({Code::kUnauthenticated, "who"}, "req-1").status, Status::unauthorized);
  EXPECT_EQ(problem_from({Code::kPermissionDenied, "no"}, "req-1").status, Status::forbidden);
  EXPECT_EQ(problem_from({Code::kFailedPrecondition, "no"}, "req-1").status, Status::conflict);
  EXPECT_EQ(problem_from({Code::kUnavailable, "later"}, "req-1").status,
            Status::service_unavailable);
}

TEST(Problem, InternalTextsStayInTheLogAndTheCallerGetsTheRequestId) {
  const auto internal =
      problem_from({Code::kInternal, "database: /var/lib/esp/esp.db locked"}, "req-1");
  EXPECT_EQ(internal.status, Status::internal_server_error);
  EXPECT_EQ(internal.detail, "internal error (request req-1)");
  const auto unavailable =
      problem_from({Code::kUnavailable, "s3: bucket esp-private unreachable"}, "req-2");
  EXPECT_EQ(unavailable.detail, "a storage service is unavailable; retry later (request req-2)");
  EXPECT_EQ(problem_from({Code::kInvalidArgument, "evolution.x: bad"}, "req-3").detail,
            "evolution.x: bad");
}

TEST(Problem, InvalidUtf8InDetailStillRendersValidJson) {
  const std::string rendered =
      render_problem({.status = Status::bad_request, .detail = "bad \xff byte"}, "");
  EXPECT_NO_THROW((void)nlohmann::json::parse(rendered));
}

}  // namespace
}  // namespace esp::http
