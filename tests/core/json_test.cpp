// JSON read within bounds: nesting, size and duplicate keys are refused while parsing,
// with the path where it happened. And JSON text written without a document: strings and
// numbers, as valid JSON that reads back exactly.
#include "core/json.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>

namespace esp::json {
namespace {

std::string nested(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

TEST(Json, ParsesWhatIsWithinTheBounds) {
  auto parsed = parse(R"({"a": [1, {"b": true}], "c": "d"})");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed.value["a"][1]["b"], true);
  EXPECT_TRUE(parse(nested(kMaxDepth)).ok());
}

TEST(Json, RefusesNestingPastTheDepthNamingThePath) {
  auto parsed = parse(R"({"params": {"list": [0, {"x": )" + nested(100'000) + "}]}}");
  ASSERT_FALSE(parsed.ok());
  EXPECT_TRUE(parsed.value.is_discarded());
  EXPECT_EQ(parsed.issue->reason, "nested deeper than 64 levels");
  EXPECT_TRUE(parsed.issue->path.starts_with("params.list[1].x[0][0]")) << parsed.issue->path;
  EXPECT_FALSE(parse(nested(kMaxDepth + 1)).ok());
  EXPECT_TRUE(parse(nested(3), {.max_depth = 3}).ok());
  EXPECT_FALSE(parse(nested(4), {.max_depth = 3}).ok());
}

TEST(Json, RefusesDocumentsOverTheSizeBeforeParsing) {
  auto parsed = parse(R"(["0123456789"])", {.max_bytes = 10});
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.issue->to_string(), "larger than 10 bytes (got 14)");
}

TEST(Json, DuplicateKeysAreRefusedOnlyWhenAsked) {
  const std::string twice = R"({"sub": "alice", "inner": {"sub": "x"}, "sub": "mallory"})";
  EXPECT_TRUE(parse(twice).ok());
  auto strict = parse(twice, {.unique_keys = true});
  ASSERT_FALSE(strict.ok());
  EXPECT_EQ(strict.issue->to_string(), "sub: appears twice in its object");
}

TEST(Json, SyntaxErrorsNameTheByte) {
  auto parsed = parse(R"({"a": [1, 2,]})");
  ASSERT_FALSE(parsed.ok());
  EXPECT_TRUE(parsed.issue->reason.starts_with("not valid JSON at byte 13"))
      << parsed.issue->reason;
  EXPECT_FALSE(parse("").ok());
  EXPECT_FALSE(parse("{} trailing").ok());
}

std::string quoted(std::string_view text) {
  std::string out;
  append_string(out, text);
  return out;
}

TEST(JsonString, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(quoted("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(quoted("line\nnext\ttab\x01"), R"("line\nnext\ttab\u0001")");
  EXPECT_EQ(quoted("del\x7f end"), R"("del\u007f end")");
}

TEST(JsonString, KeepsValidUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(quoted("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
  EXPECT_EQ(quoted("bad\xff"), R"("bad\ufffd")");
  EXPECT_EQ(quoted("\xc0\xaf"), R"("\ufffd\ufffd")");            // overlong '/'
  EXPECT_EQ(quoted("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")");  // surrogate
  EXPECT_EQ(quoted("\xe2\x82"), R"("\ufffd\ufffd")");            // truncated
}

std::string number(double value) {
  std::string out;
  append_number(out, value);
  return out;
}

TEST(JsonNumber, IsTheShortestTextThatReadsBackAsADouble) {
  EXPECT_EQ(number(1.0), "1.0");
  EXPECT_EQ(number(0.1), "0.1");
  EXPECT_EQ(number(-0.0), "-0.0");
  EXPECT_EQ(number(123456789.0), "123456789.0");
  EXPECT_EQ(number(1e300), "1e+300");
  EXPECT_EQ(number(5e-324), "5e-324");
  EXPECT_EQ(number(std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(number(std::nan("")), "null");
  std::mt19937_64 random(3);
  for (int i = 0; i < 10000; ++i) {
    const double value = std::bit_cast<double>(random());
    if (!std::isfinite(value)) continue;
    const auto read = nlohmann::json::parse(number(value));
    EXPECT_TRUE(read.is_number_float()) << number(value);
    EXPECT_EQ(std::bit_cast<std::uint64_t>(read.get<double>()), std::bit_cast<std::uint64_t>(value))
        << number(value);
  }
}

}  // namespace
}  // namespace esp::json
