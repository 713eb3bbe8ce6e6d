#include "api/http/router.h"

#include <gtest/gtest.h>

namespace esp::http {
namespace {

Handler tagged(std::string tag, std::vector<std::string>* calls) {
  return [tag = std::move(tag), calls](Request&, Respond) { calls->push_back(tag); };
}

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.add(Verb::get, "/v1/experiments", tagged("list", &calls_));
    router_.add(Verb::post, "/v1/experiments", tagged("create", &calls_));
    router_.add(Verb::get, "/v1/experiments/{id}", tagged("show", &calls_));
    router_.add(Verb::get, "/v1/experiments/{id}/checkpoints/{checkpoint}",
                tagged("checkpoint", &calls_));
    router_.add(Verb::get, "/v1/operations/{id}", tagged("operation", &calls_));
    router_.add(Verb::post, "/v1/operations/{id}:cancel", tagged("cancel", &calls_));
    router_.add(Verb::get, "/v1/experiments/latest", tagged("latest", &calls_));
    router_.add(Verb::get, "/ui/{file...}", tagged("ui", &calls_));
  }

  // Runs the matched handler and returns its tag and the captured params.
  std::pair<std::string, std::vector<PathParam>> call(Verb verb, std::string_view path) {
    auto outcome = router_.match(verb, path);
    auto* match = std::get_if<Router::Match>(&outcome);
    if (match == nullptr) return {"", {}};
    Request request;
    (*match->handler)(request, [](Response) {});
    return {calls_.back(), match->params};
  }

  Router router_;
  std::vector<std::string> calls_;
};

TEST_F(RouterTest, MatchesLiteralRoutesByMethod) {
  EXPECT_EQ(call(Verb::get, "/v1/experiments").first, "list");
  EXPECT_EQ(call(Verb::post, "/v1/experiments").first, "create");
}

TEST_F(RouterTest, CapturesPathParametersPercentDecoded) {
  auto [tag, params] = call(Verb::get, "/v1/experiments/my%20exp/checkpoints/a%2F1%2F2");
  EXPECT_EQ(tag, "checkpoint");
  ASSERT_EQ(params.size(), 2U);
  EXPECT_EQ(params[0].name, "id");
  EXPECT_EQ(params[0].value, "my exp");
  EXPECT_EQ(params[1].name, "checkpoint");
  EXPECT_EQ(params[1].value, "a/1/2");
}

TEST_F(RouterTest, LiteralSegmentBeatsParameterWhateverTheOrderAdded) {
  EXPECT_EQ(call(Verb::get, "/v1/experiments/latest").first, "latest");
  EXPECT_EQ(call(Verb::get, "/v1/experiments/other").first, "show");
}

TEST_F(RouterTest, SuffixParameterCapturesTheIdBeforeTheVerb) {
  auto [tag, params] = call(Verb::post, "/v1/operations/op-7:cancel");
  EXPECT_EQ(tag, "cancel");
  ASSERT_EQ(params.size(), 1U);
  EXPECT_EQ(params[0].value, "op-7");
  EXPECT_EQ(call(Verb::get, "/v1/operations/op-7").first, "operation");
}

TEST_F(RouterTest, RestParameterTakesTheRemainingPath) {
  auto [tag, params] = call(Verb::get, "/ui/css/swagger-ui.css");
  EXPECT_EQ(tag, "ui");
  ASSERT_EQ(params.size(), 1U);
  EXPECT_EQ(params[0].value, "css/swagger-ui.css");
}

TEST_F(RouterTest, UnknownPathIsNotFound) {
  EXPECT_TRUE(std::holds_alternative<Router::NotFound>(router_.match(Verb::get, "/v2/nothing")));
  EXPECT_TRUE(
      std::holds_alternative<Router::NotFound>(router_.match(Verb::get, "/v1/experiments/")));
}

TEST_F(RouterTest, SuffixParameterNeedsANonEmptyId) {
  // Only the plain {id} route matches, and it takes GET.
  auto outcome = router_.match(Verb::post, "/v1/operations/:cancel");
  ASSERT_TRUE(std::holds_alternative<Router::MethodNotAllowed>(outcome));
  EXPECT_EQ(std::get<Router::MethodNotAllowed>(outcome).allow, "GET, HEAD");
}

TEST_F(RouterTest, WrongMethodListsTheAllowedOnes) {
  auto outcome = router_.match(Verb::delete_, "/v1/experiments");
  auto* not_allowed = std::get_if<Router::MethodNotAllowed>(&outcome);
  ASSERT_NE(not_allowed, nullptr);
  EXPECT_EQ(not_allowed->allow, "GET, HEAD, POST");
}

TEST_F(RouterTest, HeadFallsBackToGet) {
  EXPECT_EQ(call(Verb::head, "/v1/experiments").first, "list");
}

TEST_F(RouterTest, MalformedEscapeInParameterIsNotFound) {
  EXPECT_TRUE(
      std::holds_alternative<Router::NotFound>(router_.match(Verb::get, "/v1/experiments/%zz")));
}

TEST(RouterPatterns, RejectsMalformedAndDuplicatePatterns) {
  Router router;
  EXPECT_THROW(router.add(Verb::get, "no-slash", {}), std::invalid_argument);
  EXPECT_THROW(router.add(Verb::get, "/a/{}", {}), std::invalid_argument);
  EXPECT_THROW(router.add(Verb::get, "/a/{rest...}/b", {}), std::invalid_argument);
  EXPECT_THROW(router.add(Verb::get, "/a/b{c}", {}), std::invalid_argument);
  router.add(Verb::get, "/a", {});
  EXPECT_THROW(router.add(Verb::get, "/a", {}), std::invalid_argument);
}

TEST(RequestQuery, DecodesTheFirstValueOfAParameter) {
  Request request;
  request.query = "wait=30&name=a%20b+c&flag&wait=5";
  EXPECT_EQ(request.query_param("wait"), "30");
  EXPECT_EQ(request.query_param("name"), "a b c");
  EXPECT_EQ(request.query_param("flag"), "");
  EXPECT_EQ(request.query_param("missing"), std::nullopt);
}

TEST(PercentDecode, RejectsTruncatedAndNonHexEscapes) {
  EXPECT_EQ(percent_decode("%41%42"), "AB");
  EXPECT_EQ(percent_decode("%4"), std::nullopt);
  EXPECT_EQ(percent_decode("%"), std::nullopt);
  EXPECT_EQ(percent_decode("%g1"), std::nullopt);
  EXPECT_EQ(percent_decode("a+b"), "a+b");
  EXPECT_EQ(percent_decode("a+b", true), "a b");
}

}  // namespace
}  // namespace esp::http
