// write_shortest writes what fmt::format("{}") writes, the text reads back as the same
// float, and no text is longer than kLongestFloatText.
#include "codec/float_text.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace esp::codec {
namespace {

std::string shortest(float value) {
  char text[kFloatTextRoom];
  char* end = write_shortest(text, value);
  EXPECT_LE(end - text, kLongestFloatText) << fmt::format("{}", value);
  return {text, static_cast<std::size_t>(end - text)};
}

void expect_as_fmt_and_read_back(float value) {
  const std::string text = shortest(value);
  ASSERT_EQ(text, fmt::format("{}", value)) << std::bit_cast<std::uint32_t>(value);
  float read = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), read);
  ASSERT_TRUE(error == std::errc() && end == text.data() + text.size()) << text;
  ASSERT_EQ(std::bit_cast<std::uint32_t>(read), std::bit_cast<std::uint32_t>(value)) << text;
}

TEST(WriteShortest, WritesTheNotationsAsFmtDoes) {
  EXPECT_EQ(shortest(0.0F), "0");
  EXPECT_EQ(shortest(-0.0F), "-0");
  EXPECT_EQ(shortest(0.1F), "0.1");
  EXPECT_EQ(shortest(-12.5F), "-12.5");
  EXPECT_EQ(shortest(100.0F), "100");
  EXPECT_EQ(shortest(0.0001F), "0.0001");
  EXPECT_EQ(shortest(0.00001F), "1e-05");
  EXPECT_EQ(shortest(1.5e16F), "1.5e+16");
  EXPECT_EQ(shortest(-1.00000005e15F), "-1000000050000000");  // the longest text
  EXPECT_EQ(shortest(std::numeric_limits<float>::max()), "3.4028235e+38");
  EXPECT_EQ(shortest(std::numeric_limits<float>::denorm_min()), "1e-45");
}

TEST(WriteShortest, AgreesWithFmtAroundEveryPowerOfTen) {
  for (int exponent = -45; exponent <= 38; ++exponent) {
    const float power = std::pow(10.0F, static_cast<float>(exponent));
    float value = power;
    for (int step = 0; step < 50; ++step)
      value = std::nextafter(value, 0.0F);
    for (int step = 0; step < 100; ++step) {
      expect_as_fmt_and_read_back(value);
      expect_as_fmt_and_read_back(-value);
      value = std::nextafter(value, std::numeric_limits<float>::infinity());
    }
  }
}

TEST(WriteShortest, AgreesWithFmtOnRandomFloats) {
  std::mt19937 bits(16);
  for (int i = 0; i < 200'000; ++i) {
    const float value = std::bit_cast<float>(static_cast<std::uint32_t>(bits()));
    if (std::isfinite(value)) expect_as_fmt_and_read_back(value);
  }
  std::mt19937 weights(17);  // the magnitudes networks' weights have
  std::normal_distribution<float> normal(0.0F, 0.5F);
  for (int i = 0; i < 200'000; ++i)
    expect_as_fmt_and_read_back(normal(weights));
}

}  // namespace
}  // namespace esp::codec
