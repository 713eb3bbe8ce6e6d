// The one error type that crosses part boundaries; REST maps it to problem+json
// and gRPC to a status.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace esp {

enum class Code {
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,
  kUnauthenticated,
  kPermissionDenied,
  kResourceExhausted,
  kUnavailable,
  kCancelled,
  kDeadlineExceeded,
  kInternal,
};

std::string_view code_name(Code code);
// The code code_name gives this name; kInternal for any other text.
Code code_named(std::string_view name);

// Internal and unavailable errors carry database texts, file paths and bucket names,
// which are for operators: transports log them and answer this sentence instead.
// Empty for codes whose messages are meant for the caller.
std::string_view public_detail(Code code);

// One problem with one value of a request, e.g. {"evolution.population_size", "must be
// >= 2, got 0"}; `path` is dotted ("params.extra[0][0]") and empty for the whole value.
struct Issue {
  std::string path;
  std::string reason;

  std::string to_string() const;  // "path: reason"
};

struct Error {
  Code code = Code::kInternal;
  std::string message;
  // What was wrong with which value, for a request that failed validation; transports
  // present them in their own form (gRPC "Path:/Error:" lines, REST an "errors" member).
  std::vector<Issue> issues = {};
};

// A value or the error that prevented it.
template <typename T>
class Result {
 public:
  Result(T value) : state_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : state_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  const Error& error() const { return std::get<Error>(state_); }

  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Error> state_;
};

}  // namespace esp
