#include "observability/log.h"

#include <gtest/gtest.h>

namespace esp::log {
namespace {

std::string quoted(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

TEST(LogJson, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(quoted("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(quoted("line\nnext\ttab\x01"), R"("line\nnext\ttab\u0001")");
  EXPECT_EQ(quoted("del\x7f end"), R"("del\u007f end")");
}

TEST(LogJson, KeepsValidUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(quoted("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
  EXPECT_EQ(quoted("bad\xff"), R"("bad\ufffd")");
  EXPECT_EQ(quoted("\xc0\xaf"), R"("\ufffd\ufffd")");            // overlong '/'
  EXPECT_EQ(quoted("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")");  // surrogate
  EXPECT_EQ(quoted("\xe2\x82"), R"("\ufffd\ufffd")");            // truncated
}

TEST(LogLevel, ParsesNamesCaseInsensitively) {
  EXPECT_EQ(parse_level("INFO"), Level::kInfo);
  EXPECT_EQ(parse_level("warning"), Level::kWarn);
  EXPECT_EQ(parse_level("off"), Level::kOff);
  EXPECT_EQ(parse_level("verbose"), std::nullopt);
}

}  // namespace
}  // namespace esp::log
