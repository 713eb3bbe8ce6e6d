#include "core/base64url.h"

#include <gtest/gtest.h>

#include <random>

namespace esp {
namespace {

TEST(Base64url, EncodesTheRfc4648VectorsWithoutPadding) {
  EXPECT_EQ(base64url_encode(""), "");
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(base64url_encode("foo"), "Zm9v");
  EXPECT_EQ(base64url_encode("foob"), "Zm9vYg");
  EXPECT_EQ(base64url_encode("fooba"), "Zm9vYmE");
  EXPECT_EQ(base64url_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64url_encode("\xfb\xff\xbf"), "-_-_");  // the two URL-safe letters
}

TEST(Base64url, RoundTripsArbitraryBytes) {
  std::mt19937 random(1);
  for (std::size_t length = 0; length < 200; ++length) {
    std::string bytes(length, '\0');
    for (char& c : bytes)
      c = static_cast<char>(random());
    auto decoded = base64url_decode(base64url_encode(bytes));
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(*decoded, bytes);
  }
}

TEST(Base64url, RefusesEverythingButTheCanonicalForm) {
  EXPECT_EQ(base64url_decode("Zm9vYmFy"), "foobar");
  EXPECT_FALSE(base64url_decode("Zg==").has_value());    // padding
  EXPECT_FALSE(base64url_decode("+/+/").has_value());    // standard alphabet
  EXPECT_FALSE(base64url_decode("Zm9v\n").has_value());  // whitespace
  EXPECT_FALSE(base64url_decode("Z").has_value());       // impossible length
  EXPECT_FALSE(base64url_decode("Zh").has_value());      // "f" with non-zero spare bits
  EXPECT_FALSE(base64url_decode(std::string("Zm\0v", 4)).has_value());
}

}  // namespace
}  // namespace esp
