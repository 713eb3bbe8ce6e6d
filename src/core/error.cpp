#include "core/error.h"

namespace esp {

std::string Issue::to_string() const {
  return path.empty() ? reason : path + ": " + reason;
}

std::string_view code_name(Code code) {
  switch (code) {
    case Code::kInvalidArgument:
      return "invalid_argument";
    case Code::kNotFound:
      return "not_found";
    case Code::kAlreadyExists:
      return "already_exists";
    case Code::kFailedPrecondition:
      return "failed_precondition";
    case Code::kUnauthenticated:
      return "unauthenticated";
    case Code::kPermissionDenied:
      return "permission_denied";
    case Code::kResourceExhausted:
      return "resource_exhausted";
    case Code::kUnavailable:
      return "unavailable";
    case Code::kCancelled:
      return "cancelled";
    case Code::kDeadlineExceeded:
      return "deadline_exceeded";
    case Code::kInternal:
      return "internal";
  }
  return "internal";
}

Code code_named(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(Code::kInternal); ++i) {
    const auto code = static_cast<Code>(i);
    if (code_name(code) == name) return code;
  }
  return Code::kInternal;
}

std::string_view public_detail(Code code) {
  if (code == Code::kInternal) return "internal error";
  if (code == Code::kUnavailable) return "a storage service is unavailable; retry later";
  return {};
}

}  // namespace esp
