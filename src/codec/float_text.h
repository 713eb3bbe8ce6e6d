// The shortest decimal text of a float that reads back as the same float, written fast:
// the SDK's JSON weights are most of what a generation in that representation costs.
#pragma once

namespace esp::codec {

// The longest text write_shortest writes: "-1000000050000000" (fixed notation reaches 16
// digits; "-1.23456789e-38" is 15).
inline constexpr int kLongestFloatText = 17;
// The bytes write_shortest may write at `out`, past its text too: it copies digits in
// fixed-size pieces rather than byte by byte.
inline constexpr int kFloatTextRoom = 32;

// Writes `value`, finite, at `out` and returns the text's end. The text is what
// fmt::format("{}", value) gives, character for character (tested, and checked on every
// float): Dragonbox's shortest digits, fixed notation for decimal exponents in [-4, 16),
// otherwise d.ddde±XX.
char* write_shortest(char* out, float value);

}  // namespace esp::codec
