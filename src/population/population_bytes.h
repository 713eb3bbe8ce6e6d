// A bred population as the wire bytes of its PopulationResponse message, written once,
// in place, on several threads: byte for byte what protobuf serializes for the same
// message, without building the message first. At P=100,000 (490 MB) the message and
// its serialization were two full copies of the population, each paid mostly in page
// faults on fresh memory; these bytes go into one huge-page block instead, which is
// stored as the checkpoint and handed to gRPC as the answer.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "codec/candidate_codec.h"
#include "core/error.h"
#include "core/large_blocks.h"
#include "evolution/engine.h"

namespace esp::population {

// Bytes shared read-only by whoever answers or stores them; `view` lives as long as
// `owner`.
struct SharedBytes {
  std::shared_ptr<const void> owner;
  std::string_view view;

  static SharedBytes of(std::string bytes);
  static SharedBytes of(core::ByteBlock bytes);
};

struct PopulationFields {
  std::string_view experiment_id;  // each candidate's identity names it
  std::string_view checkpoint_id;
  std::string_view evaluation_stats;
};

// In `codec`'s representation; `threads` write candidates side by side.
Result<SharedBytes> population_bytes(const codec::CandidateCodec& codec,
                                     const evolution::Population& population,
                                     const PopulationFields& fields, unsigned threads);

}  // namespace esp::population
