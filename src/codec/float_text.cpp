#include "codec/float_text.h"

#include <fmt/format.h>

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>

namespace esp::codec {
namespace {

// "00", "01", ..., "99": digits are written two at a time.
constexpr auto kDigitPairs = [] {
  std::array<char, 200> pairs{};
  for (int i = 0; i < 100; ++i) {
    pairs[2 * i] = static_cast<char>('0' + i / 10);
    pairs[2 * i + 1] = static_cast<char>('0' + i % 10);
  }
  return pairs;
}();

constexpr std::array<std::uint32_t, 10> kPowersOf10{
    1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000};

int digit_count(std::uint32_t n) {
  // log10 from the bit width (1233/4096 ≈ log10 2), then one comparison to correct it.
  const int guess = (std::bit_width(n | 1) * 1233) >> 12;
  return guess + 1 - ((n | 1) < kPowersOf10[static_cast<std::size_t>(guess)]);
}

void put_pair(char* out, std::uint32_t n) {
  std::memcpy(out, &kDigitPairs[2 * n], 2);
}

// n (under 10^9, as every float's shortest significand) as nine digits with leading
// zeros: no loop, so no branch that depends on how many digits it has.
void put_nine_digits(char* out, std::uint32_t n) {
  out[0] = static_cast<char>('0' + n / 100000000);
  const std::uint32_t low = n % 100000000;
  const std::uint32_t high_four = low / 10000;
  const std::uint32_t low_four = low % 10000;
  put_pair(out + 1, high_four / 100);
  put_pair(out + 3, high_four % 100);
  put_pair(out + 5, low_four / 100);
  put_pair(out + 7, low_four % 100);
}

// The fixed-size copies below read up to 16 bytes from a digit and write up to 16 bytes
// past where a piece of text starts; the buffer and kFloatTextRoom leave room for both.
void copy16(char* out, const char* from) {
  std::memcpy(out, from, 16);
}

}  // namespace

char* write_shortest(char* out, float value) {
  const auto bits = std::bit_cast<std::uint32_t>(value);
  *out = '-';
  out += bits >> 31;
  // Dragonbox (fmt's): the shortest significand that reads back, trailing zeros removed.
  // fmt declares it in its detail namespace (fmt 9 to 12 alike); float_text_test compares
  // the whole text with fmt's public formatting, so a change there shows.
  const auto decimal = fmt::detail::dragonbox::to_decimal(std::bit_cast<float>(bits & 0x7FFFFFFFU));
  const int digits = digit_count(decimal.significand);
  const int exponent = decimal.exponent;
  const int point = exponent + digits;  // where the decimal point falls in the digits
  char buffer[32] = {};
  put_nine_digits(buffer, decimal.significand);
  const char* first = buffer + 9 - digits;
  if (point - 1 < -4 || point - 1 >= 16) {  // 1.2345e-05
    out[0] = first[0];
    out[1] = '.';
    copy16(out + 2, first + 1);
    out += digits > 1 ? digits + 1 : 1;
    const int power = point - 1;
    out[0] = 'e';
    out[1] = power < 0 ? '-' : '+';
    put_pair(out + 2, static_cast<std::uint32_t>(power < 0 ? -power : power));  // under 100
    return out + 4;
  }
  if (point <= 0) {  // 1234e-6 -> 0.001234
    std::memcpy(out, "0.000000", 8);
    copy16(out + 2 - point, first);
    return out + 2 - point + digits;
  }
  copy16(out, first);
  if (exponent >= 0) {  // 1234e5 -> 123400000
    std::memset(out + digits, '0', 16);
    return out + point;
  }
  // 1234e-2 -> 12.34
  out[point] = '.';
  copy16(out + point + 1, first + point);
  return out + digits + 1;
}

}  // namespace esp::codec
