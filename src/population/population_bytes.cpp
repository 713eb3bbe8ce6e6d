#include "population/population_bytes.h"

#include <fmt/format.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>
#include <xxhash.h>

#include <cstring>
#include <limits>
#include <vector>

#include "codec/candidate_json.h"
#include "codec/interpretation.h"
#include "evolution/parallel.h"
#include "population_structs.pb.h"

namespace esp::population {
namespace {

using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedOutputStream;

using Population = ::population::PopulationResponse;
using Candidate = ::population::Candidate;

// A length-delimited field: a one-byte tag (every field number here is under 16), the
// length, the bytes. proto3 writes no field for empty bytes.
static_assert(Candidate::kIdentityFieldNumber < 16 && Population::kEvaluationStatsFieldNumber < 16);
std::size_t field_size(std::size_t length) {
  return length == 0 ? 0 : 1 + CodedOutputStream::VarintSize64(length) + length;
}

std::uint8_t* put_header(std::uint8_t* out, int number, std::size_t length) {
  out = WireFormatLite::WriteTagToArray(number, WireFormatLite::WIRETYPE_LENGTH_DELIMITED, out);
  return CodedOutputStream::WriteVarint64ToArray(length, out);
}

std::uint8_t* put_bytes(std::uint8_t* out, std::string_view bytes) {
  std::memcpy(out, bytes.data(), bytes.size());
  return out + bytes.size();
}

std::uint8_t* put_field(std::uint8_t* out, int number, std::string_view bytes) {
  if (bytes.empty()) return out;
  return put_bytes(put_header(out, number, bytes.size()), bytes);
}

// One candidate's fields but its weights in the binary layout, which are written in
// place from the genome.
struct Record {
  std::string interpretation;
  std::string metrics;
  std::string identity;
  std::size_t interpretation_size = 0;
  std::size_t body_size = 0;  // the Candidate message
  std::size_t offset = 0;     // where its field starts
};

}  // namespace

SharedBytes SharedBytes::of(std::string bytes) {
  auto owner = std::make_shared<const std::string>(std::move(bytes));
  return {owner, *owner};
}

SharedBytes SharedBytes::of(core::ByteBlock bytes) {
  auto owner = std::make_shared<const core::ByteBlock>(std::move(bytes));
  return {owner, owner->view()};
}

std::uint64_t interpretation_digest(std::string_view interpretation) {
  return XXH3_64bits(interpretation.data(), interpretation.size());
}

Result<SharedBytes> population_bytes(const codec::CandidateCodec& codec,
                                     const evolution::Population& population,
                                     const PopulationFields& fields, const BytesOptions& options) {
  const unsigned threads = options.threads;
  const bool in_place = codec.is_binary();
  const std::string weights_header = in_place ? codec::weights_header(codec.shape()) : "";
  const std::size_t count = population.candidates.size();
  std::vector<Record> records(count);
  evolution::parallel_for(count, threads, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) {
      const auto& candidate = population.candidates[i];
      auto& record = records[i];
      if (in_place) {
        record.interpretation_size = weights_header.size() + population.genomes[i].size_bytes();
      } else {
        record.interpretation = codec.encode(population.genomes[i]);
        record.interpretation_size = record.interpretation.size();
      }
      if (candidate.elite) record.metrics = codec::metrics_json_text(candidate.metrics);
      record.identity = codec::identity_json(candidate, fields.experiment_id);
      record.body_size = field_size(candidate.id.size()) + field_size(record.interpretation_size) +
                         field_size(record.metrics.size()) + field_size(record.identity.size());
    }
  });
  // Each candidate is an embedded message, written even when empty (as protobuf does).
  std::size_t size = 0;
  for (auto& record : records) {
    record.offset = size;
    size += 1 + CodedOutputStream::VarintSize64(record.body_size) + record.body_size;
  }
  const std::size_t candidates_end = size;
  if (population.generation != 0) size += 1 + WireFormatLite::Int32Size(population.generation);
  size += field_size(fields.checkpoint_id.size()) + field_size(fields.evaluation_stats.size());
  // Protobuf reads no message past 2 GiB, and would serialize none.
  if (size > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    return Error{
        Code::kResourceExhausted,
        fmt::format("the population is {} bytes, over protobuf's 2 GiB message limit", size)};
  }

  if (options.digests != nullptr) options.digests->assign(count, 0);
  core::ByteBlock block(size);
  auto* start = reinterpret_cast<std::uint8_t*>(block.data());
  // Each thread writes (and so first touches) the pages of its own candidates, and gives
  // back the genomes of each stretch it has written.
  constexpr std::size_t kReleaseStretch = 256;
  evolution::parallel_for(count, threads, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) {
      const auto& candidate = population.candidates[i];
      const auto& record = records[i];
      std::uint8_t* out =
          put_header(start + record.offset, Population::kPopulationFieldNumber, record.body_size);
      out = put_field(out, Candidate::kIdFieldNumber, candidate.id);
      if (in_place) {
        const auto genome = population.genomes[i];
        out = put_header(out, Candidate::kInterpretationFieldNumber, record.interpretation_size);
        std::uint8_t* interpretation = out;
        out = put_bytes(out, weights_header);
        out = put_bytes(out, {reinterpret_cast<const char*>(genome.data()), genome.size_bytes()});
        if (options.digests != nullptr)
          (*options.digests)[i] = interpretation_digest(
              {reinterpret_cast<const char*>(interpretation), record.interpretation_size});
        const std::size_t stretch = i - (i - begin) % kReleaseStretch;  // where i's began
        if (options.release != nullptr && (i + 1 - stretch == kReleaseStretch || i + 1 == end))
          options.release->release(stretch, i + 1);
      } else {
        out = put_field(out, Candidate::kInterpretationFieldNumber, record.interpretation);
        if (options.digests != nullptr)
          (*options.digests)[i] = interpretation_digest(record.interpretation);
      }
      out = put_field(out, Candidate::kMetricsFieldNumber, record.metrics);
      put_field(out, Candidate::kIdentityFieldNumber, record.identity);
    }
  });
  std::uint8_t* out = start + candidates_end;
  if (population.generation != 0)
    out = WireFormatLite::WriteInt32ToArray(Population::kGenerationCountFieldNumber,
                                            population.generation, out);
  out = put_field(out, Population::kCheckpointIdFieldNumber, fields.checkpoint_id);
  put_field(out, Population::kEvaluationStatsFieldNumber, fields.evaluation_stats);
  return SharedBytes::of(std::move(block));
}

}  // namespace esp::population
