#include "api/grpc/population_request.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/stubs/common.h>
#include <google/protobuf/wire_format_lite.h>
#include <grpcpp/support/proto_buffer_reader.h>
#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <limits>
#include <unordered_map>

#include "codec/candidate_json.h"
#include "core/large_blocks.h"
#include "evolution/parallel.h"
#include "population_structs.pb.h"

namespace esp::grpcapi {
namespace {

// A request arrives in many small heap blocks, which glibc keeps (and counts in RSS)
// after they are freed unless asked to hand the pages back. One no larger than the blocks
// kept for the next generation (large_blocks.h) is kept too: the next request reuses its
// pages instead of faulting fresh ones in (a P=1000 JSON generation, 123 MB each way:
// 330-375 ms trimmed, 298-347 ms kept). A larger one is handed back, for the peak.
void trim_after(std::size_t request_bytes) {
  if (request_bytes > core::largest_kept_block()) malloc_trim(0);
}

using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedInputStream;

// The fields this reader keeps, by the generated classes' numbers.
using Request = ::population::PopulationRequest;
using Population = ::population::PopulationResponse;
using Candidate = ::population::Candidate;

// proto3 `string` fields are UTF-8; protobuf's own parser refuses a request otherwise, with
// the check used here.
enum class Text { kString, kBytes };

bool read_length(CodedInputStream& in, int& length) {
  std::uint32_t value = 0;
  if (!in.ReadVarint32(&value) ||
      value > static_cast<std::uint32_t>(std::numeric_limits<int>::max()))
    return false;
  length = static_cast<int>(value);
  return true;
}

bool read_text(CodedInputStream& in, std::string& out, Text text) {
  int length = 0;
  if (!read_length(in, length) || !in.ReadString(&out, length)) return false;
  return text == Text::kBytes || google::protobuf::internal::IsStructurallyValidUTF8(
                                     out.data(), static_cast<int>(out.size()));
}

// Reads a message's fields up to its end: `keep(number)` reads a length-delimited field
// it wants and answers whether it read it well, or nullopt for one it leaves; every other
// field is skipped (Skip moves past bytes without copying them).
template <typename Keep>
bool read_fields(CodedInputStream& in, Keep keep) {
  for (;;) {
    const std::uint32_t tag = in.ReadTag();
    if (tag == 0) return in.ConsumedEntireMessage();
    if (WireFormatLite::GetTagFieldNumber(tag) == 0) return false;  // as protobuf: no field 0
    if (WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      const std::optional<bool> kept = keep(WireFormatLite::GetTagFieldNumber(tag));
      if (kept.has_value()) {
        if (!*kept) return false;
        continue;
      }
    }
    if (!WireFormatLite::SkipField(&in, tag)) return false;
  }
}

// An embedded message: its length, then its fields, which must end exactly there (a
// length past the end of the request is a truncated request).
template <typename Keep>
bool read_embedded(CodedInputStream& in, Keep keep) {
  int length = 0;
  if (!read_length(in, length)) return false;
  const auto limit = in.PushLimit(length);
  const bool read = read_fields(in, keep) && in.BytesUntilLimit() == 0;
  in.PopLimit(limit);
  return read;
}

struct Scored {
  std::string id;
  std::string metrics;
};

class RequestReader {
 public:
  explicit RequestReader(std::vector<InterpretationSpan>* spans) : spans_(spans) {}

  Result<population::GenerationRequest> read(CodedInputStream& in) {
    const bool read = read_fields(in, [&](int number) -> std::optional<bool> {
      switch (number) {
        case Request::kVersionFieldNumber:  // unused, but a string protobuf would check
          return read_text(in, version_, Text::kString);
        case Request::kExperimentIdFieldNumber:
          return read_text(in, request_.experiment_id, Text::kString);
        case Request::kConfigFieldNumber:
          return read_text(in, config_, Text::kBytes);
        case Request::kEvaluatedPopulationResponseFieldNumber:
          evaluated_ = true;
          return read_embedded(in, [&](int field) { return population_field_of(in, field); });
        default:
          return std::nullopt;
      }
    });
    if (!read)
      return Error{Code::kInvalidArgument,
                   "the request is not a PopulationRequest message (malformed or truncated)"};
    read_metrics();
    if (!error_.message.empty()) return error_;
    // The contract: every call carries its parameters.
    if (config_.empty()) return Error{Code::kInvalidArgument, "No experiment params supplied"};
    request_.params_json = std::move(config_);
    if (evaluated_) request_.evaluated = std::move(scores_);
    return std::move(request_);
  }

 private:
  std::optional<bool> population_field_of(CodedInputStream& in, int number) {
    switch (number) {
      case Population::kCheckpointIdFieldNumber:
        return read_text(in, scores_.checkpoint_id, Text::kString);
      case Population::kPopulationFieldNumber: {
        Scored candidate;
        std::optional<InterpretationSpan> span;
        const bool read = read_embedded(in, [&](int field) -> std::optional<bool> {
          if (field == Candidate::kIdFieldNumber) return read_text(in, candidate.id, Text::kString);
          if (field == Candidate::kMetricsFieldNumber)
            return read_text(in, candidate.metrics, Text::kBytes);
          if (field == Candidate::kInterpretationFieldNumber && spans_ != nullptr) {
            int length = 0;
            if (!read_length(in, length)) return false;
            span = InterpretationSpan{.offset = static_cast<std::size_t>(in.CurrentPosition()),
                                      .length = static_cast<std::size_t>(length)};
            return in.Skip(length);
          }
          return std::nullopt;
        });
        if (read && span) {
          span->id = candidate.id;
          spans_->push_back(std::move(*span));
        }
        if (read) keep(std::move(candidate));
        return read;
      }
      default:
        return std::nullopt;
    }
  }

  void keep(Scored candidate) { sent_.push_back(std::move(candidate)); }

  // Each candidate's metrics, read once the message is, side by side for many (at
  // P=100,000 they took 55 ms on one thread). The first bad ones in the order sent are the
  // answer.
  void read_metrics() {
    auto& scored = scores_.scored;
    scored.resize(sent_.size());
    constexpr std::size_t kNotBad = std::numeric_limits<std::size_t>::max();
    std::atomic<std::size_t> first_bad = kNotBad;
    const unsigned threads = evolution::threads_for(sent_.size(), kMetricsPerThread);
    evolution::parallel_for(sent_.size(), threads, [&](std::size_t begin, std::size_t end) {
      for (std::size_t i = begin; i < end; ++i) {
        auto metrics = codec::metrics_from_json(sent_[i].metrics);
        if (!metrics.ok()) {
          std::size_t bad = first_bad.load();
          while (i < bad && !first_bad.compare_exchange_weak(bad, i)) {
          }
          return;  // later ones in this range are not the first
        }
        scored[i] = {.id = std::move(sent_[i].id), .metrics = std::move(*metrics)};
      }
    });
    if (const std::size_t bad = first_bad.load(); bad != kNotBad) {
      error_ = Error{Code::kInvalidArgument,
                     "candidate " + sent_[bad].id + ": " +
                         codec::metrics_from_json(sent_[bad].metrics).error().message};
    }
    sent_.clear();
  }
  static constexpr std::size_t kMetricsPerThread = 8192;

  std::vector<InterpretationSpan>* spans_;
  population::GenerationRequest request_;
  std::string version_;
  std::string config_;
  bool evaluated_ = false;
  std::vector<Scored> sent_;  // metrics not yet read
  population::EvaluatedPopulation scores_;
  Error error_{Code::kInvalidArgument, ""};
};

Result<population::GenerationRequest> read_from(google::protobuf::io::ZeroCopyInputStream& bytes,
                                                std::vector<InterpretationSpan>* spans) {
  CodedInputStream in(&bytes);
  return RequestReader(spans).read(in);
}

// The request's slices (gRPC's own, referenced), and each candidate's span in them.
class RequestInterpretations : public population::SentInterpretations {
 public:
  RequestInterpretations(grpc::ByteBuffer& request, std::vector<InterpretationSpan> spans) {
    (void)request.Dump(&slices_);  // references the slices; OK for any valid buffer
    request.Clear();
    std::size_t start = 0;
    for (const auto& slice : slices_) {
      starts_.push_back(start);
      start += slice.size();
    }
    bytes_ = start;
    spans_.reserve(spans.size());
    for (auto& span : spans) {
      if (span.offset + span.length > bytes_) continue;         // never: the reader checked it
      spans_[std::move(span.id)] = {span.offset, span.length};  // the last one, as protobuf
    }
  }
  ~RequestInterpretations() override {
    slices_.clear();
    trim_after(bytes_);
  }

  std::optional<std::string_view> read(std::string_view id, std::string& scratch) const override {
    auto found = spans_.find(id);
    if (found == spans_.end()) return std::nullopt;
    auto [offset, length] = found->second;
    auto slice = std::upper_bound(starts_.begin(), starts_.end(), offset) - starts_.begin() - 1;
    const auto& first = slices_[static_cast<std::size_t>(slice)];
    const std::size_t skip = offset - starts_[static_cast<std::size_t>(slice)];
    if (skip + length <= first.size())  // no copy: most lie within one of gRPC's slices
      return std::string_view(reinterpret_cast<const char*>(first.begin()) + skip, length);
    scratch.resize(length);
    for (std::size_t done = 0; done < length; ++slice) {
      const auto& from = slices_[static_cast<std::size_t>(slice)];
      const std::size_t from_skip = offset + done - starts_[static_cast<std::size_t>(slice)];
      const std::size_t take = std::min(from.size() - from_skip, length - done);
      std::memcpy(scratch.data() + done, from.begin() + from_skip, take);
      done += take;
    }
    return std::string_view(scratch);
  }

 private:
  struct Hash : std::hash<std::string_view> {
    using is_transparent = void;
  };
  std::vector<grpc::Slice> slices_;
  std::vector<std::size_t> starts_;  // of each slice in the request
  std::size_t bytes_ = 0;
  std::unordered_map<std::string, std::pair<std::size_t, std::size_t>, Hash, std::equal_to<>>
      spans_;
};

std::string experiment_from(google::protobuf::io::ZeroCopyInputStream& bytes) {
  CodedInputStream in(&bytes);
  std::string experiment;
  read_fields(in, [&](int number) -> std::optional<bool> {
    if (number != Request::kExperimentIdFieldNumber) return std::nullopt;
    return read_text(in, experiment, Text::kString);
  });
  return experiment;
}

}  // namespace

std::string experiment_named(const grpc::ByteBuffer& request) {
  if (!request.Valid()) return "";
  grpc::ByteBuffer shared(request);
  grpc::ProtoBufferReader bytes(&shared);
  return bytes.status().ok() ? experiment_from(bytes) : "";
}

Result<population::GenerationRequest> read_generation_request(
    const grpc::ByteBuffer& request, std::vector<InterpretationSpan>* spans) {
  if (!request.Valid()) return read_generation_request(std::string_view(), spans);
  grpc::ByteBuffer shared(request);  // the same slices, referenced again: no copy
  grpc::ProtoBufferReader bytes(&shared);
  if (!bytes.status().ok())
    return Error{Code::kInvalidArgument,
                 "the request cannot be read: " + bytes.status().error_message()};
  return read_from(bytes, spans);
}

Result<population::GenerationRequest> read_generation_request(
    std::string_view request, std::vector<InterpretationSpan>* spans) {
  google::protobuf::io::ArrayInputStream bytes(request.data(), static_cast<int>(request.size()));
  return read_from(bytes, spans);
}

void let_go(grpc::ByteBuffer& request) {
  const std::size_t bytes = request.Length();
  request.Clear();
  trim_after(bytes);
}

std::shared_ptr<const population::SentInterpretations> sent_interpretations(
    grpc::ByteBuffer& request, std::vector<InterpretationSpan> spans) {
  return std::make_shared<const RequestInterpretations>(request, std::move(spans));
}

}  // namespace esp::grpcapi
