// NextPopulation's request bytes from a stranger, read by espd itself (ids and metrics
// only): never a crash, a leak or undefined behaviour; either a request with its params,
// or kInvalidArgument.
#include <cstdint>
#include <string_view>

#include "api/grpc/population_request.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const auto read = esp::grpcapi::read_generation_request(bytes);
  if (read.ok() && !read->params_json) __builtin_trap();  // every call carries its params
  if (!read.ok() && read.error().code != esp::Code::kInvalidArgument) __builtin_trap();
  return 0;
}
