// JSON from outside (request bodies, gRPC fields, identity documents, stored records),
// parsed within bounds. nlohmann parses and destroys without recursion, but dump, copy
// and comparison recurse once per nesting level: a 200 KB document nested 100,000 deep
// overflows the stack. Every JSON espd reads goes through parse_json, which refuses such
// a document while parsing, before anything recursive can see it.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace esp::json {

// Deeper than any parameter file, metrics object or token needs (they use at most 5).
inline constexpr std::size_t kMaxDepth = 64;

struct Limits {
  std::size_t max_depth = kMaxDepth;
  std::size_t max_bytes = std::size_t{64} << 20;
  bool unique_keys = false;  // refuse an object with a key twice (security decisions)
};

// Where a document went wrong: `path` in the dotted form validation errors use
// ("params.extra[0][0]"; empty for the document as a whole).
using Issue = esp::Issue;

struct Parsed {
  nlohmann::json value;        // discarded when `issue` is set
  std::optional<Issue> issue;  // the first problem found; parsing stops there
  bool ok() const { return !issue.has_value(); }
};

Parsed parse(std::string_view text, const Limits& limits = {});

// Appends `text` as a JSON string literal (quotes included), for JSON written without a
// document (log lines, and the identities and metrics of every candidate). Invalid
// UTF-8 becomes U+FFFD, so the output is always valid JSON.
void append_string(std::string& out, std::string_view text);
// Appends `value` as nlohmann and Python write a double: the shortest text that reads back
// as it, with a fraction or an exponent ("1.0", never "1"); null for infinities and NaN,
// which JSON cannot hold.
void append_number(std::string& out, double value);

}  // namespace esp::json
