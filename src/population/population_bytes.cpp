#include "population/population_bytes.h"

#include <fmt/format.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>
#include <xxhash.h>
#if defined(__x86_64__)
// XXH3 through the library's own dispatch: AVX2 where the CPU has it, at twice SSE2's
// speed (18 against 10 GB/s here); the same digests either way.
#include <xxh_x86dispatch.h>
#endif

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <limits>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <utility>
#include <vector>

#include "codec/candidate_json.h"
#include "codec/interpretation.h"
#include "codec/population_json.h"
#include "evolution/parallel.h"
#include "population_structs.pb.h"

namespace esp::population {
namespace {

using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedInputStream;
using google::protobuf::io::CodedOutputStream;

using Population = ::population::PopulationResponse;
using Candidate = ::population::Candidate;

// A length-delimited field: a one-byte tag (every field number here is under 16), the
// length, the bytes. proto3 writes no field for empty bytes.
static_assert(Candidate::kIdentityFieldNumber < 16 && Population::kEvaluationStatsFieldNumber < 16);
std::size_t field_size(std::size_t length) {
  return length == 0 ? 0 : 1 + CodedOutputStream::VarintSize64(length) + length;
}

// A candidate's field, which is written even when its message is empty (as protobuf does).
std::size_t candidate_field_size(std::size_t body_size) {
  return 1 + CodedOutputStream::VarintSize64(body_size) + body_size;
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

// The same for bytes nothing here reads back, with non-temporal stores (core::stream_bytes;
// core::finish_streaming before other threads read them).
std::uint8_t* stream_field(std::uint8_t* out, int number, std::string_view bytes) {
  if (bytes.empty()) return out;
  out = put_header(out, number, bytes.size());
  core::stream_bytes(reinterpret_cast<char*>(out), bytes);
  return out + bytes.size();
}

// One candidate's fields but its interpretation, which is written in place: from its
// genome in esp's layout, else as it is encoded.
struct Record {
  std::string metrics;
  std::string identity;
  std::size_t interpretation_size = 0;
  std::size_t body_size = 0;  // the Candidate message
  std::size_t offset = 0;     // where its field starts (encoded: at the latest)
};

// Whether a population's bytes can be written over its genomes: the block holds them, and
// no candidate's field starts before its genome (which holds for any real identity).
bool fits_over_genomes(const evolution::Genomes& genomes, const std::vector<Record>& records,
                       std::size_t size) {
  if (genomes.block().capacity() < size ||
      genomes.block().size() != genomes.size() * genomes.stride_bytes())
    return false;
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (records[i].offset < i * genomes.stride_bytes()) return false;
  }
  return true;
}

// Calls write(i, genome) for every candidate, last first within each of `threads` runs of
// candidates, when their fields are written over their genomes (fits_over_genomes). A
// run's last fields reach past its end into the next run's first genomes: those are
// copied aside first, and the next run reads them there.
template <typename Write>
void write_over_genomes(const evolution::Genomes& genomes, const std::vector<Record>& records,
                        unsigned threads, Write write) {
  const std::size_t count = records.size();
  const std::size_t stride = genomes.stride_bytes();
  std::vector<std::size_t> bounds{0};
  std::vector<std::uint32_t> spilled;  // each run's first genomes that the run before reaches
  for (unsigned run = 1; run < threads; ++run) {
    const std::size_t bound = count * run / threads;
    const std::size_t reach = bound < count ? (records[bound].offset + stride - 1) / stride : bound;
    if (bound <= bounds.back() || reach > count * (run + 1) / threads) continue;
    bounds.push_back(bound);
    for (std::size_t i = bound; i < reach; ++i)
      spilled.push_back(static_cast<std::uint32_t>(i));
  }
  evolution::Genomes aside(count, genomes.weights_per_genome(), spilled);
  for (std::uint32_t i : spilled)
    std::ranges::copy(genomes[i], aside[i].begin());
  bounds.push_back(count);
  evolution::parallel_for(bounds.size() - 1, threads, [&](std::size_t first, std::size_t last) {
    for (std::size_t run = first; run < last; ++run) {
      for (std::size_t i = bounds[run + 1]; i-- > bounds[run];) {
        write(i, aside.holds(i) ? aside[i] : genomes[i]);
      }
    }
  });
}

// Each candidate's genomes in `bred_from` that it may share weights with: an elite's own,
// a child's parents'; kNone where there is none (or it is not held).
constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();
using Sources = std::array<std::uint32_t, 2>;

std::vector<Sources> sources_in(const evolution::Population& bred_from,
                                const evolution::Population& population) {
  std::unordered_map<std::string_view, std::uint32_t> index;
  index.reserve(bred_from.candidates.size());
  for (std::uint32_t i = 0; i < bred_from.candidates.size(); ++i) {
    if (bred_from.genomes.holds(i)) index.emplace(bred_from.candidates[i].id, i);
  }
  const auto find = [&](std::string_view id) {
    auto found = index.find(id);
    return found == index.end() ? kNone : found->second;
  };
  std::vector<Sources> sources(population.candidates.size(), {kNone, kNone});
  for (std::size_t i = 0; i < sources.size(); ++i) {
    const auto& candidate = population.candidates[i];
    if (candidate.elite) {
      sources[i][0] = find(candidate.id);
      continue;
    }
    const auto& parents = candidate.identity.parents;
    for (std::size_t p = 0; p < std::min(parents.size(), sources[i].size()); ++p)
      sources[i][p] = find(parents[p]);
  }
  return sources;
}

// Encodes candidates in a representation other than esp's layout; those bred from
// `bred_from` copy what they share with it (their parents' weight texts), from `given`
// where it has them.
class Encoder {
 public:
  Encoder(const codec::CandidateCodec& codec, const evolution::Population& population,
          const evolution::Population* bred_from, const PopulationTexts* given, unsigned threads)
      : codec_(codec), population_(population) {
    if (bred_from == nullptr || !codec.keeps_texts() ||
        bred_from->genomes.weights_per_genome() != population.genomes.weights_per_genome())
      return;
    sources_ = sources_in(*bred_from, population);
    texts_.resize(bred_from->candidates.size());
    const bool given_fits = given != nullptr && given->of.size() == texts_.size();
    std::vector<std::uint32_t> missing;
    std::vector<bool> seen(texts_.size());
    for (const auto& pair : sources_) {
      for (std::uint32_t source : pair) {
        if (source == kNone || seen[source]) continue;
        seen[source] = true;
        if (given_fits && given->of[source]) {
          texts_[source] = &*given->of[source];
        } else {
          missing.push_back(source);
        }
      }
    }
    // One block for the rest of the parents' texts: kept for the next generation's (at
    // P=1000 W=10,000 they are 32 MB, which as fresh pages cost more than writing them).
    const std::size_t slots_bytes =
        codec::WeightTexts::slots_bytes(population.genomes.weights_per_genome());
    slots_ = core::ByteBlock(missing.size() * slots_bytes);
    written_.resize(missing.size());
    evolution::parallel_for(missing.size(), threads, [&](std::size_t begin, std::size_t end) {
      for (std::size_t m = begin; m < end; ++m) {
        written_[m] = codec.texts_of(bred_from->genomes[missing[m]],
                                     {slots_.data() + m * slots_bytes, slots_bytes});
      }
    });
    for (std::size_t m = 0; m < missing.size(); ++m)
      texts_[missing[m]] = &*written_[m];
  }

  // Candidate i's interpretation, in `buffer` (see CandidateCodec::encode).
  std::string_view encode(std::size_t i, std::string& buffer) const {
    std::array<const codec::WeightTexts*, 2> from{};
    std::size_t count = 0;
    if (!sources_.empty()) {
      for (std::uint32_t source : sources_[i]) {
        if (source != kNone) from[count++] = texts_[source];
      }
    }
    return codec_.encode(population_.genomes[i], std::span(from.data(), count), buffer);
  }

 private:
  const codec::CandidateCodec& codec_;
  const evolution::Population& population_;
  std::vector<Sources> sources_;
  core::ByteBlock slots_;
  std::vector<std::optional<codec::WeightTexts>> written_;
  std::vector<const codec::WeightTexts*> texts_;  // by bred_from's candidate; null: unused
};

// Each candidate's metrics and identity text, and the size of its field with an
// interpretation of interpretation_size(i) bytes.
template <typename InterpretationSize>
std::vector<Record> records_of(const evolution::Population& population,
                               const PopulationFields& fields, unsigned threads,
                               InterpretationSize interpretation_size) {
  std::vector<Record> records(population.candidates.size());
  evolution::parallel_for(records.size(), threads, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) {
      const auto& candidate = population.candidates[i];
      auto& record = records[i];
      record.interpretation_size = interpretation_size(i);
      if (candidate.elite) record.metrics = codec::metrics_json_text(candidate.metrics);
      record.identity = codec::identity_json(candidate, fields.experiment_id);
      record.body_size = field_size(candidate.id.size()) + field_size(record.interpretation_size) +
                         field_size(record.metrics.size()) + field_size(record.identity.size());
    }
  });
  return records;
}

// Sets each record's offset, one field after another; returns where the last ends.
std::size_t place(std::vector<Record>& records) {
  std::size_t size = 0;
  for (auto& record : records) {
    record.offset = size;
    size += candidate_field_size(record.body_size);
  }
  return size;
}

// The population's own fields, after its candidates.
std::size_t trailer_size(const evolution::Population& population, const PopulationFields& fields) {
  const std::size_t generation =
      population.generation != 0 ? 1 + WireFormatLite::Int32Size(population.generation) : 0;
  return generation + field_size(fields.checkpoint_id.size()) +
         field_size(fields.evaluation_stats.size());
}

void put_trailer(std::uint8_t* out, const evolution::Population& population,
                 const PopulationFields& fields) {
  if (population.generation != 0)
    out = WireFormatLite::WriteInt32ToArray(Population::kGenerationCountFieldNumber,
                                            population.generation, out);
  out = put_field(out, Population::kCheckpointIdFieldNumber, fields.checkpoint_id);
  put_field(out, Population::kEvaluationStatsFieldNumber, fields.evaluation_stats);
}

// Protobuf reads no message past 2 GiB, and would serialize none.
std::optional<Error> over_protobufs_limit(std::size_t size) {
  if (size <= static_cast<std::size_t>(std::numeric_limits<int>::max())) return std::nullopt;
  return Error{
      Code::kResourceExhausted,
      fmt::format("the population is {} bytes, over protobuf's 2 GiB message limit", size)};
}

// One candidate's fields as written; they need only live until then.
using CandidateFields = codec::CandidateView;

// The bytes of candidates in a representation other than esp's layout, whose sizes are
// known only once encoded, then `trailer`. Each thread writes its run of candidates one at
// a time straight into the block, at where its run would start if every candidate before
// it took the most it can (`offsets`, with interpretations of `largest_interpretation`
// bytes); the runs are the answer's pieces, where they were written. Before, every
// candidate was encoded first: at P=100,000 in the SDK's JSON those strings were another
// 1.6 GB at the peak, all of it fresh pages. Moving the runs together after was one thread
// copying half the answer (0.8 GB there) while the call waited.
// fields_of(i, buffer): candidate i's fields, its interpretation perhaps in `buffer`.
template <typename FieldsOf>
Result<SharedBytes> write_in_runs(const std::vector<std::size_t>& offsets, std::size_t largest,
                                  std::size_t largest_interpretation, std::string_view trailer,
                                  unsigned threads, std::vector<std::uint64_t>* digests,
                                  FieldsOf fields_of) {
  const std::size_t count = offsets.size();
  core::ByteBlock block(largest);
  auto* start = reinterpret_cast<std::uint8_t*>(block.data());
  struct Run {
    std::size_t begin, end;  // bytes written
  };
  std::vector<Run> runs;
  std::optional<Error> failure;
  std::mutex mutex;  // of runs and failure
  if (digests != nullptr) digests->assign(count, 0);
  evolution::parallel_for(count, threads, [&](std::size_t first, std::size_t last) {
    if (first == last) return;
    std::uint8_t* out = start + offsets[first];
    std::string buffer;
    for (std::size_t i = first; i < last; ++i) {
      Result<CandidateFields> fields = fields_of(i, buffer);
      // Over its bound it would write into the next run (or past the block): a codec's bug.
      if (fields.ok() && fields->interpretation.size() > largest_interpretation)
        fields = Error{Code::kInternal, "an interpretation was longer than its codec's largest"};
      if (!fields.ok()) {
        std::lock_guard lock(mutex);
        if (!failure) failure = fields.error();
        return;
      }
      if (digests != nullptr) (*digests)[i] = interpretation_digest(fields->interpretation);
      const std::size_t body_size =
          field_size(fields->id.size()) + field_size(fields->interpretation.size()) +
          field_size(fields->metrics.size()) + field_size(fields->identity.size());
      out = put_header(out, Population::kPopulationFieldNumber, body_size);
      out = put_field(out, Candidate::kIdFieldNumber, fields->id);
      out = stream_field(out, Candidate::kInterpretationFieldNumber, fields->interpretation);
      out = put_field(out, Candidate::kMetricsFieldNumber, fields->metrics);
      out = put_field(out, Candidate::kIdentityFieldNumber, fields->identity);
    }
    core::finish_streaming();
    std::lock_guard lock(mutex);
    runs.push_back({offsets[first], static_cast<std::size_t>(out - start)});
  });
  if (failure) return *failure;
  std::ranges::sort(runs, {}, &Run::begin);
  if (runs.empty()) runs.push_back({0, 0});
  // The trailer goes after the last run, within what the block leaves for it.
  put_bytes(start + runs.back().end, trailer);
  runs.back().end += trailer.size();
  std::size_t size = 0;
  for (const Run& run : runs)
    size += run.end - run.begin;
  if (auto refused = over_protobufs_limit(size)) return *refused;
  block.shrink(runs.back().end);
  auto owner = std::make_shared<const core::ByteBlock>(std::move(block));
  SharedBytes bytes{.owner = owner, .pieces = {}};
  for (const Run& run : runs)
    bytes.pieces.push_back(owner->view().substr(run.begin, run.end - run.begin));
  return bytes;
}

Result<SharedBytes> encoded_bytes(const codec::CandidateCodec& codec,
                                  const evolution::Population& population,
                                  const PopulationFields& fields, const BytesOptions& options) {
  const std::size_t largest_interpretation = codec.largest_encoding();
  std::vector<Record> records = records_of(population, fields, options.threads,
                                           [&](std::size_t) { return largest_interpretation; });
  std::string trailer(trailer_size(population, fields), '\0');
  put_trailer(reinterpret_cast<std::uint8_t*>(trailer.data()), population, fields);
  const std::size_t largest = place(records) + trailer.size();
  std::vector<std::size_t> offsets(records.size());
  std::ranges::transform(records, offsets.begin(), &Record::offset);
  const Encoder encoder(codec, population, options.bred_from, options.bred_from_texts,
                        options.threads);
  return write_in_runs(
      offsets, largest, largest_interpretation, trailer, options.threads, options.digests,
      [&](std::size_t i, std::string& buffer) {
        return Result<CandidateFields>(CandidateFields{.id = population.candidates[i].id,
                                                       .interpretation = encoder.encode(i, buffer),
                                                       .metrics = records[i].metrics,
                                                       .identity = records[i].identity});
      });
}

// Calls field(number, bytes) for each length-delimited field of a message's bytes, and
// skips its varints; false for anything else, or bytes cut short.
template <typename Field>
bool each_field(std::string_view message, Field field) {
  CodedInputStream in(reinterpret_cast<const std::uint8_t*>(message.data()),
                      static_cast<int>(message.size()));
  for (std::uint32_t tag = in.ReadTag(); tag != 0; tag = in.ReadTag()) {
    if (WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_VARINT) {
      if (std::uint64_t value = 0; !in.ReadVarint64(&value)) return false;
      continue;
    }
    std::uint32_t length = 0;
    if (WireFormatLite::GetTagWireType(tag) != WireFormatLite::WIRETYPE_LENGTH_DELIMITED ||
        !in.ReadVarint32(&length) || length > message.size())
      return false;
    const auto at = static_cast<std::size_t>(in.CurrentPosition());
    if (!in.Skip(static_cast<int>(length))) return false;
    field(static_cast<int>(WireFormatLite::GetTagFieldNumber(tag)), message.substr(at, length));
  }
  return in.ConsumedEntireMessage();
}

// A stored population's candidates' fields, and every other field whole (tag and all),
// which protobuf writes after them (field 1 comes first): views into its bytes.
struct StoredPopulation {
  std::vector<CandidateFields> candidates;
  std::string trailer;
};

Result<StoredPopulation> read_stored(std::string_view stored) {
  const auto corrupt = [] {
    return Error{Code::kInternal, "the stored bytes are not a PopulationResponse's"};
  };
  if (stored.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) return corrupt();
  StoredPopulation population;
  CodedInputStream in(reinterpret_cast<const std::uint8_t*>(stored.data()),
                      static_cast<int>(stored.size()));
  while (true) {
    const auto at = static_cast<std::size_t>(in.CurrentPosition());
    const std::uint32_t tag = in.ReadTag();
    if (tag == 0) break;  // the end, or bytes that are no tag (ConsumedEntireMessage)
    if (WireFormatLite::GetTagFieldNumber(tag) != Population::kPopulationFieldNumber) {
      if (!WireFormatLite::SkipField(&in, tag)) return corrupt();
      population.trailer += stored.substr(at, static_cast<std::size_t>(in.CurrentPosition()) - at);
      continue;
    }
    std::uint32_t length = 0;
    if (WireFormatLite::GetTagWireType(tag) != WireFormatLite::WIRETYPE_LENGTH_DELIMITED ||
        !in.ReadVarint32(&length) || length > stored.size())
      return corrupt();
    const auto body = static_cast<std::size_t>(in.CurrentPosition());
    if (!in.Skip(static_cast<int>(length))) return corrupt();
    CandidateFields& candidate = population.candidates.emplace_back();
    const bool read =
        each_field(stored.substr(body, length), [&](int number, std::string_view value) {
          switch (number) {
            case Candidate::kIdFieldNumber:
              candidate.id = value;
              break;
            case Candidate::kInterpretationFieldNumber:
              candidate.interpretation = value;
              break;
            case Candidate::kMetricsFieldNumber:
              candidate.metrics = value;
              break;
            case Candidate::kIdentityFieldNumber:
              candidate.identity = value;
              break;
            default:
              break;
          }
        });
    if (!read) return corrupt();
  }
  if (!in.ConsumedEntireMessage()) return corrupt();
  return population;
}

}  // namespace

SharedBytes SharedBytes::of(std::string bytes) {
  auto owner = std::make_shared<const std::string>(std::move(bytes));
  return {.owner = owner, .pieces = {*owner}};
}

SharedBytes SharedBytes::of(core::ByteBlock bytes) {
  auto owner = std::make_shared<core::ByteBlock>(std::move(bytes));
  return {owner, {owner->view()}, owner.get()};
}

void SharedBytes::give_back_front(std::size_t bytes) const {
  // One holder is this one: no other can read them, or copy it to read them later.
  if (block == nullptr || owner.use_count() != 1) return;
  std::atomic_thread_fence(std::memory_order_acquire);  // after the last other reader's reads
  block->give_back_front(bytes);
}

std::size_t SharedBytes::size() const {
  std::size_t size = 0;
  for (std::string_view piece : pieces)
    size += piece.size();
  return size;
}

std::string_view SharedBytes::view() const {
  if (pieces.size() > 1) throw std::logic_error("bytes in pieces read as one");
  return pieces.empty() ? std::string_view() : pieces.front();
}

std::string SharedBytes::joined() const {
  std::string bytes;
  bytes.reserve(size());
  for (std::string_view piece : pieces)
    bytes += piece;
  return bytes;
}

Result<std::vector<std::uint64_t>> interpretation_digests(const SharedBytes& bytes,
                                                          unsigned threads) {
  std::vector<std::string_view> interpretations;
  bool parsed = true;
  for (std::string_view piece : bytes.pieces) {
    parsed = parsed && each_field(piece, [&](int number, std::string_view candidate) {
               if (number != Population::kPopulationFieldNumber) return;
               std::string_view interpretation;  // none written when empty
               parsed = parsed && each_field(candidate, [&](int field, std::string_view value) {
                          if (field == Candidate::kInterpretationFieldNumber)
                            interpretation = value;
                        });
               interpretations.push_back(interpretation);
             });
  }
  if (!parsed) return Error{Code::kInternal, "the bytes are not a PopulationResponse's"};
  std::vector<std::uint64_t> digests(interpretations.size());
  evolution::parallel_for(digests.size(), threads, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i)
      digests[i] = interpretation_digest(interpretations[i]);
  });
  return digests;
}

std::uint64_t interpretation_digest(std::string_view interpretation) {
  return XXH3_64bits(interpretation.data(), interpretation.size());
}

Result<PopulationView> read_population(SharedBytes bytes) {
  PopulationView view;
  std::string trailer;
  // Each piece is whole fields: runs of candidates, the last one with the other fields.
  for (std::string_view piece : bytes.pieces) {
    auto read = read_stored(piece);
    if (!read.ok()) return read.error();
    view.candidates.insert(view.candidates.end(), read->candidates.begin(), read->candidates.end());
    trailer += read->trailer;
  }
  if (!view.others.ParseFromString(trailer))
    return Error{Code::kInternal, "the stored bytes are not a PopulationResponse's"};
  view.bytes = std::move(bytes);
  return view;
}

Population population_message(const PopulationView& view, bool with_interpretations) {
  Population population = view.others;
  population.mutable_population()->Reserve(static_cast<int>(view.candidates.size()));
  for (const CandidateFields& fields : view.candidates) {
    Candidate& candidate = *population.add_population();
    candidate.set_id(std::string(fields.id));
    if (with_interpretations) candidate.set_interpretation(std::string(fields.interpretation));
    candidate.set_metrics(std::string(fields.metrics));
    candidate.set_identity(std::string(fields.identity));
  }
  return population;
}

Result<std::string_view> recoded_interpretation(const codec::CandidateCodec& codec,
                                                const codec::CandidateCodec& stored_codec,
                                                const codec::CandidateView& stored,
                                                std::string& buffer) {
  auto genome = stored_codec.decode(stored.interpretation);
  if (!genome.ok())
    return Error{Code::kInternal, "stored candidate " + std::string(stored.id) +
                                      " is corrupt: " + genome.error().message};
  return codec.encode(*genome, {}, buffer);
}

Result<SharedBytes> recoded_bytes(const codec::CandidateCodec& codec,
                                  const codec::CandidateCodec& stored_codec,
                                  std::string_view stored, unsigned threads) {
  auto read = read_stored(stored);
  if (!read.ok()) return read.error();
  // Not a structured binding: clang before 16 cannot capture one in a lambda.
  const std::vector<CandidateFields>& candidates = read->candidates;
  const std::string& trailer = read->trailer;
  const std::size_t largest_interpretation = codec.largest_encoding();
  std::vector<std::size_t> offsets(candidates.size());
  std::size_t largest = 0;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const auto& candidate = candidates[i];
    const std::size_t body_size =
        field_size(candidate.id.size()) + field_size(largest_interpretation) +
        field_size(candidate.metrics.size()) + field_size(candidate.identity.size());
    offsets[i] = largest;
    largest += candidate_field_size(body_size);
  }
  largest += trailer.size();
  return write_in_runs(offsets, largest, largest_interpretation, trailer, threads, nullptr,
                       [&](std::size_t i, std::string& buffer) -> Result<CandidateFields> {
                         CandidateFields fields = candidates[i];
                         auto written = recoded_interpretation(codec, stored_codec, fields, buffer);
                         if (!written.ok()) return written.error();
                         fields.interpretation = *written;
                         return fields;
                       });
}

Result<SharedBytes> population_bytes(const codec::CandidateCodec& codec,
                                     const evolution::Population& population,
                                     const PopulationFields& fields, const BytesOptions& options) {
  if (!codec.is_binary()) return encoded_bytes(codec, population, fields, options);
  const unsigned threads = options.threads;
  const std::string weights_header = codec::weights_header(codec.shape());
  const std::size_t count = population.candidates.size();
  std::vector<Record> records = records_of(population, fields, threads, [&](std::size_t i) {
    return weights_header.size() + population.genomes[i].size_bytes();
  });
  const std::size_t candidates_end = place(records);
  const std::size_t size = candidates_end + trailer_size(population, fields);
  if (auto refused = over_protobufs_limit(size)) return *refused;

  if (options.digests != nullptr) options.digests->assign(count, 0);
  // Candidate i's field; `genome` is where its weights are read from.
  const auto write = [&](std::uint8_t* start, std::size_t i, std::span<const float> genome) {
    const auto& candidate = population.candidates[i];
    const auto& record = records[i];
    std::uint8_t* at = start + record.offset;
    const std::size_t field_header = 1 + CodedOutputStream::VarintSize64(record.body_size);
    std::uint8_t* interpretation = at + field_header + field_size(candidate.id.size()) + 1 +
                                   CodedOutputStream::VarintSize64(record.interpretation_size);
    // The weights first: written over the genomes, they may overlap their own genome,
    // which the fields before them would otherwise overwrite first.
    std::memmove(interpretation + weights_header.size(), genome.data(), genome.size_bytes());
    std::uint8_t* out = put_header(at, Population::kPopulationFieldNumber, record.body_size);
    out = put_field(out, Candidate::kIdFieldNumber, candidate.id);
    out = put_header(out, Candidate::kInterpretationFieldNumber, record.interpretation_size);
    out = put_bytes(out, weights_header) + genome.size_bytes();
    if (options.digests != nullptr)
      (*options.digests)[i] = interpretation_digest(
          {reinterpret_cast<const char*>(interpretation), record.interpretation_size});
    out = put_field(out, Candidate::kMetricsFieldNumber, record.metrics);
    put_field(out, Candidate::kIdentityFieldNumber, record.identity);
  };

  core::ByteBlock block;
  if (options.release == &population.genomes &&
      fits_over_genomes(population.genomes, records, size)) {
    // Written over the genomes they come from, last candidate first: a candidate's field
    // starts at or after its genome, so it covers only genomes already written. No second
    // block of fresh pages (at P=100,000 their faults cost more than the writing).
    auto* start =
        reinterpret_cast<std::uint8_t*>(const_cast<char*>(population.genomes.block().data()));
    write_over_genomes(population.genomes, records, threads,
                       [&](std::size_t i, auto genome) { write(start, i, genome); });
    block = std::move(*options.release).take_block();
    block.resize(size);
  } else {
    block = core::ByteBlock(size);
    auto* start = reinterpret_cast<std::uint8_t*>(block.data());
    // Each thread writes (and so first touches) the pages of its own candidates, and gives
    // back the genomes of each stretch it has written.
    constexpr std::size_t kReleaseStretch = 256;
    evolution::parallel_for(count, threads, [&](std::size_t begin, std::size_t end) {
      for (std::size_t i = begin; i < end; ++i) {
        write(start, i, population.genomes[i]);
        const std::size_t stretch = i - (i - begin) % kReleaseStretch;  // where i's began
        if (options.release != nullptr && (i + 1 - stretch == kReleaseStretch || i + 1 == end))
          options.release->release(stretch, i + 1);
      }
    });
  }
  put_trailer(reinterpret_cast<std::uint8_t*>(block.data()) + candidates_end, population, fields);
  return SharedBytes::of(std::move(block));
}

}  // namespace esp::population
