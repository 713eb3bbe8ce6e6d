// A NextPopulation request read straight from its wire bytes. Of the evaluated
// population only each candidate's id and metrics are read: its interpretation and
// identity, nearly all of a 400 MB request, are skipped without a copy: the job breeds
// from the weights it handed out, and reads the client's copy of a parent only after
// checking it is exactly that (SentInterpretations).
#pragma once

#include <grpcpp/support/byte_buffer.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "population/generation_request.h"

namespace esp::grpcapi {

// Where each evaluated candidate's interpretation lies in the request's bytes.
struct InterpretationSpan {
  std::string id;
  std::size_t offset = 0;
  std::size_t length = 0;
};

// kInvalidArgument when the bytes are not a PopulationRequest (truncated, malformed, a
// string field that is not UTF-8), when it carries no params, or when a candidate's
// metrics are not a JSON object of numbers. `spans`, when given, gets where each
// candidate's interpretation lies (none are copied).
Result<population::GenerationRequest> read_generation_request(
    const grpc::ByteBuffer& request, std::vector<InterpretationSpan>* spans = nullptr);
Result<population::GenerationRequest> read_generation_request(
    std::string_view request, std::vector<InterpretationSpan>* spans = nullptr);

// Clears `request` and hands its memory back (a big one's too).
void let_go(grpc::ByteBuffer& request);

// The interpretations of a request that is let go of once none is needed any more (the
// worker took the parents it breeds from, or the call ended): `request` is taken over,
// its slices shared, never copied.
std::shared_ptr<const population::SentInterpretations> sent_interpretations(
    grpc::ByteBuffer& request, std::vector<InterpretationSpan> spans);

// The request's experiment id alone, for the call's log line before the caller is known
// (the evaluated population is skipped whole); empty when there is none to read.
std::string experiment_named(const grpc::ByteBuffer& request);

}  // namespace esp::grpcapi
