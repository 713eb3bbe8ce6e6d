#include "observability/log.h"

#include <gtest/gtest.h>

namespace esp::log {
namespace {

TEST(LogLevel, ParsesNamesCaseInsensitively) {
  EXPECT_EQ(parse_level("INFO"), Level::kInfo);
  EXPECT_EQ(parse_level("warning"), Level::kWarn);
  EXPECT_EQ(parse_level("off"), Level::kOff);
  EXPECT_EQ(parse_level("verbose"), std::nullopt);
}

}  // namespace
}  // namespace esp::log
