// Experiment parameters from a stranger (REST body or gRPC config): never a crash, a
// leak or undefined behaviour; a document either validates or names its problems.
#include <cstdint>
#include <string_view>

#include "evolution/params.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto report = esp::evolution::check_params(text);
  if (report.params.has_value() == !report.errors.empty()) __builtin_trap();  // the contract
  for (const auto& issue : report.errors)
    (void)issue.to_string();
  return 0;
}
