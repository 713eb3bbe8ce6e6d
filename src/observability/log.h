// Structured logging: one JSON object per line on stdout, buffered so request
// threads never wait on the terminal.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

namespace esp::log {

enum class Level { kTrace, kDebug, kInfo, kWarn, kError, kOff };

std::optional<Level> parse_level(std::string_view name);
std::string_view level_name(Level level);

// One key/value of a log line. Keys are trusted literals; values are escaped.
struct Field {
  using Value = std::variant<std::string_view, std::int64_t, std::uint64_t, double, bool>;

  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, bool v) : key(k), value(v) {}
  Field(std::string_view k, double v) : key(k), value(v) {}
  template <typename Int>
  requires(std::is_integral_v<Int> && !std::is_same_v<Int, bool>) Field(std::string_view k, Int v)
      : key(k) {
    if constexpr (std::is_signed_v<Int>) {
      value = static_cast<std::int64_t>(v);
    } else {
      value = static_cast<std::uint64_t>(v);
    }
  }

  std::string_view key;
  Value value;
};

// Starts the logger; safe to call again (tests) to change the level.
void init(Level level);
// Writes buffered lines now: before exit, and after lifecycle events that
// operators and supervisors wait for.
void flush();
bool enabled(Level level);

void write(Level level, std::string_view event, std::span<const Field> fields);
inline void write(Level level, std::string_view event, std::initializer_list<Field> fields) {
  write(level, event, std::span<const Field>(fields.begin(), fields.size()));
}

inline void debug(std::string_view event, std::initializer_list<Field> fields = {}) {
  write(Level::kDebug, event, fields);
}
inline void info(std::string_view event, std::initializer_list<Field> fields = {}) {
  write(Level::kInfo, event, fields);
}
inline void warn(std::string_view event, std::initializer_list<Field> fields = {}) {
  write(Level::kWarn, event, fields);
}
inline void error(std::string_view event, std::initializer_list<Field> fields = {}) {
  write(Level::kError, event, fields);
}

}  // namespace esp::log
