#include "observability/log.h"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <mutex>

#include "core/json.h"

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

void append_value(std::string& out, const Field::Value& value) {
  std::visit(
      [&out](const auto& v) {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, std::string_view>) {
          json::append_string(out, v);
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
  json::append_string(line, event);
  for (const Field& field : fields) {
    line += ',';
    json::append_string(line, field.key);
    line += ':';
    append_value(line, field.value);
  }
  g_logger->log(to_spdlog(level), "{}", line);
}

}  // namespace esp::log
