#include "core/json.h"

#include <fmt/format.h>

#include <cmath>
#include <iterator>
#include <set>
#include <vector>

namespace esp::json {
namespace {

using Json = nlohmann::json;
using DomParser = nlohmann::detail::json_sax_dom_parser<Json>;

// The DOM builder with a depth limit, duplicate-key check and the path of the value
// being read. Returning false from an event stops the parse at once.
class BoundedParser {
 public:
  BoundedParser(Json& result, const Limits& limits) : dom_(result, false), limits_(limits) {}

  bool null() { return scalar() && dom_.null(); }
  bool boolean(bool value) { return scalar() && dom_.boolean(value); }
  bool number_integer(Json::number_integer_t value) {
    return scalar() && dom_.number_integer(value);
  }
  bool number_unsigned(Json::number_unsigned_t value) {
    return scalar() && dom_.number_unsigned(value);
  }
  bool number_float(Json::number_float_t value, const std::string& text) {
    return scalar() && dom_.number_float(value, text);
  }
  bool string(std::string& value) { return scalar() && dom_.string(value); }
  bool binary(Json::binary_t& value) { return scalar() && dom_.binary(value); }

  bool start_object(std::size_t size) { return open(false) && dom_.start_object(size); }
  bool key(std::string& name) {
    Frame& frame = frames_.back();
    if (limits_.unique_keys && !frame.keys.insert(name).second) {
      frame.key = name;
      return fail("appears twice in its object");
    }
    frame.key = name;
    return dom_.key(name);
  }
  bool end_object() {
    frames_.pop_back();
    return dom_.end_object();
  }
  bool start_array(std::size_t size) { return open(true) && dom_.start_array(size); }
  bool end_array() {
    frames_.pop_back();
    return dom_.end_array();
  }
  template <class Exception>
  bool parse_error(std::size_t position, const std::string& /*token*/, const Exception& error) {
    if (!issue_) {
      // nlohmann's text names the byte and what it read; the prefix is noise to a caller.
      std::string_view what = error.what();
      if (const auto colon = what.find("syntax error"); colon != std::string_view::npos)
        what.remove_prefix(colon);
      issue_ = Issue{path(), fmt::format("not valid JSON at byte {}: {}", position, what)};
    }
    return false;
  }

  std::optional<Issue> take_issue() { return std::move(issue_); }

 private:
  struct Frame {
    bool array = false;
    std::size_t next_index = 0;  // arrays: the index of the next element
    std::string key;             // objects: the key being read
    std::set<std::string, std::less<>> keys;
  };

  // Every value starts here: in an array it takes the next index.
  void begin_value() {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().next_index;
  }
  bool scalar() {
    begin_value();
    return true;
  }
  bool open(bool array) {
    begin_value();
    if (frames_.size() >= limits_.max_depth) {
      return fail(fmt::format("nested deeper than {} levels", limits_.max_depth));
    }
    frames_.push_back(Frame{.array = array});
    return true;
  }
  bool fail(std::string reason) {
    issue_ = Issue{path(), std::move(reason)};
    return false;
  }
  std::string path() const {
    std::string text;
    for (const auto& frame : frames_) {
      if (frame.array) {
        if (frame.next_index > 0) text += fmt::format("[{}]", frame.next_index - 1);
      } else {
        if (!text.empty()) text += '.';
        text += frame.key;
      }
    }
    return text;
  }

  DomParser dom_;
  const Limits& limits_;
  std::vector<Frame> frames_;
  std::optional<Issue> issue_;
};

}  // namespace

Parsed parse(std::string_view text, const Limits& limits) {
  Parsed parsed;
  if (text.size() > limits.max_bytes) {
    parsed.issue =
        Issue{"", fmt::format("larger than {} bytes (got {})", limits.max_bytes, text.size())};
    return parsed;
  }
  BoundedParser parser(parsed.value, limits);
  const bool complete = Json::sax_parse(text, &parser);
  parsed.issue = parser.take_issue();
  if (!complete && !parsed.issue) parsed.issue = Issue{"", "not valid JSON"};
  if (parsed.issue) parsed.value = Json(Json::value_t::discarded);
  return parsed;
}

namespace {

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

}  // namespace

void append_string(std::string& out, std::string_view text) {
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

void append_number(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  const std::size_t start = out.size();
  fmt::format_to(std::back_inserter(out), "{}", value);
  if (out.find_first_of(".e", start) == std::string::npos) out += ".0";
}

}  // namespace esp::json
