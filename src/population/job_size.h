// What one generation job holds in memory at its peak, estimated from its parameters, so
// a job too big for this server is refused when it is submitted instead of killing the
// process that runs it (and, retried on the next replica, that one too).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/error.h"
#include "evolution/params.h"

namespace esp::population {

struct JobSize {
  std::uint64_t candidates = 0;     // the largest population (CMA-ES restarts double it)
  std::uint64_t message_bytes = 0;  // the serialized population: checkpoint and answer
  std::uint64_t peak_bytes = 0;     // genomes, request, answer and checkpoint (job_size.cpp)
};

JobSize estimate_job_size(const evolution::ExperimentParams& params);

// kResourceExhausted naming both sizes when the job's peak exceeds `max_memory_bytes`,
// or when its population message would pass protobuf's 2 GiB limit.
std::optional<Error> check_job_size(const evolution::ExperimentParams& params,
                                    std::uint64_t max_memory_bytes);

// 1536 -> "1.5 KiB"; for messages that name sizes.
std::string human_bytes(std::uint64_t bytes);

}  // namespace esp::population
