#include "observability/log.h"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <mutex>

namespace esp::log {
namespace {

std::atomic<Level> g_level{Level::kInfo};

// Collects lines in memory and writes them to stdout in large chunks: a
// request costs a copy, not a system call. Flushed every second, on warnings
// and at shutdown.
class BufferedStdoutSink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    buffer_.append(formatted.data(), formatted.size());
    if (buffer_.size() >= kFlushBytes) flush_();
  }

  void flush_() override {
    const char* data = buffer_.data();
    size_t left = buffer_.size();
    while (left > 0) {
      const ssize_t written = ::write(STDOUT_FILENO, data, left);
      if (written < 0 && errno == EINTR) continue;
      if (written <= 0) break;  // stdout gone: drop the lines rather than block
      data += written;
      left -= static_cast<size_t>(written);
    }
    buffer_.clear();
  }

 private:
  static constexpr size_t kFlushBytes = 64 * 1024;
  std::string buffer_;
};
std::shared_ptr<spdlog::logger> g_logger;
std::once_flag g_init_once;

spdlog::level::level_enum to_spdlog(Level level) {
  switch (level) {
    case Level::kTrace:
      return spdlog::level::trace;
    case Level::kDebug:
      return spdlog::level::debug;
    case Level::kInfo:
      return spdlog::level::info;
    case Level::kWarn:
      return spdlog::level::warn;
    case Level::kError:
      return spdlog::level::err;
    case Level::kOff:
      return spdlog::level::off;
  }
  return spdlog::level::info;
}

// Length of the valid UTF-8 sequence starting at text[i], or 0 if invalid.
size_t utf8_sequence_length(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  size_t length = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  // Reject overlong forms, surrogates and code points past U+10FFFF.
  const unsigned char second = byte(i + 1);
  if (lead == 0xE0 && second < 0xA0) return 0;
  if (lead == 0xED && second > 0x9F) return 0;
  if (lead == 0xF0 && second < 0x90) return 0;
  if (lead == 0xF4 && second > 0x8F) return 0;
  return length;
}

void append_value(std::string& out, const Field::Value& value) {
  std::visit(
      [&out](const auto& v) {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, std::string_view>) {
          append_json_string(out, v);
        } else if constexpr (std::is_same_v<V, bool>) {
          out += v ? "true" : "false";
        } else {
          fmt::format_to(std::back_inserter(out), "{}", v);
        }
      },
      value);
}

}  // namespace

std::optional<Level> parse_level(std::string_view name) {
  static constexpr std::array<std::pair<std::string_view, Level>, 8> kNames{{
      {"trace", Level::kTrace},
      {"debug", Level::kDebug},
      {"info", Level::kInfo},
      {"warn", Level::kWarn},
      {"warning", Level::kWarn},
      {"error", Level::kError},
      {"critical", Level::kError},
      {"off", Level::kOff},
  }};
  for (const auto& [text, level] : kNames) {
    if (text.size() == name.size() &&
        std::equal(text.begin(), text.end(), name.begin(), [](char a, char b) {
          return a == std::tolower(static_cast<unsigned char>(b));
        })) {
      return level;
    }
  }
  return std::nullopt;
}

std::string_view level_name(Level level) {
  switch (level) {
    case Level::kTrace:
      return "trace";
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
    case Level::kOff:
      return "off";
  }
  return "info";
}

void init(Level level) {
  std::call_once(g_init_once, [] {
    g_logger = std::make_shared<spdlog::logger>("esp", std::make_shared<BufferedStdoutSink>());
    g_logger->flush_on(spdlog::level::warn);
    g_logger->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l",%v})",
                          spdlog::pattern_time_type::utc);
    spdlog::set_default_logger(g_logger);
    spdlog::flush_every(std::chrono::seconds(1));
  });
  g_level = level;
  g_logger->set_level(to_spdlog(level));
}

void flush() {
  if (g_logger) g_logger->flush();
}

bool enabled(Level level) {
  return level >= g_level.load(std::memory_order_relaxed) && level != Level::kOff;
}

void write(Level level, std::string_view event, std::span<const Field> fields) {
  if (!enabled(level) || !g_logger) return;
  std::string line;
  line.reserve(128);
  line += R"("msg":)";
  append_json_string(line, event);
  for (const Field& field : fields) {
    line += ',';
    append_json_string(line, field.key);
    line += ':';
    append_value(line, field.value);
  }
  g_logger->log(to_spdlog(level), "{}", line);
}

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto plain = [](unsigned char c) { return c >= 0x20 && c < 0x7F && c != '"' && c != '\\'; };
  out += '"';
  for (size_t i = 0; i < text.size();) {
    // Runs of characters that need no escaping (nearly every key and value) in one append.
    size_t run = i;
    while (run < text.size() && plain(static_cast<unsigned char>(text[run])))
      ++run;
    if (run > i) {
      out.append(text.substr(i, run - i));
      i = run;
      continue;
    }
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const size_t length = utf8_sequence_length(text, i);
      if (length == 0) {
        out += "\\ufffd";
        ++i;
      } else {
        out.append(text.substr(i, length));
        i += length;
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}

}  // namespace esp::log
