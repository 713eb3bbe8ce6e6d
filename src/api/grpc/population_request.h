// A NextPopulation request read straight from its wire bytes. Of the evaluated
// population only each candidate's id and metrics are read: its interpretation and
// identity, nearly all of a 400 MB request, are skipped without a copy, because the job
// breeds from the stored checkpoint's weights, never from the client's copy of them.
#pragma once

#include <grpcpp/support/byte_buffer.h>

#include <string_view>

#include "core/error.h"
#include "population/generation_request.h"

namespace esp::grpcapi {

// kInvalidArgument when the bytes are not a PopulationRequest (truncated, malformed, a
// string field that is not UTF-8), when it carries no params, or when a candidate's
// metrics are not a JSON object of numbers.
Result<population::GenerationRequest> read_generation_request(const grpc::ByteBuffer& request);
Result<population::GenerationRequest> read_generation_request(std::string_view request);

// The request's experiment id alone, for the call's log line before the caller is known
// (the evaluated population is skipped whole); empty when there is none to read.
std::string experiment_named(const grpc::ByteBuffer& request);

}  // namespace esp::grpcapi
