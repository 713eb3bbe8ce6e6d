// A bred population as the wire bytes of its PopulationResponse message, written once,
// in place, on several threads: byte for byte what protobuf serializes for the same
// message, without building the message first. At P=100,000 (490 MB) the message and
// its serialization were two full copies of the population, each paid mostly in page
// faults on fresh memory; these bytes go into one huge-page block instead, which is
// stored as the checkpoint and handed to gRPC as the answer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "codec/candidate_codec.h"
#include "codec/population_json.h"
#include "core/error.h"
#include "core/large_blocks.h"
#include "evolution/engine.h"
#include "population_structs.pb.h"

namespace esp::population {

// Bytes shared read-only by whoever answers or stores them, in one piece or in several
// one after another; each piece lives as long as `owner`.
struct SharedBytes {
  std::shared_ptr<const void> owner;
  std::vector<std::string_view> pieces;
  core::ByteBlock* block = nullptr;  // the one piece's, when made of a ByteBlock

  static SharedBytes of(std::string bytes);
  static SharedBytes of(core::ByteBlock bytes);

  std::size_t size() const;
  // The bytes of one piece, as esp's binary layout always is (std::logic_error for more).
  std::string_view view() const;
  // All the pieces, copied together.
  std::string joined() const;
  // Gives the memory of the first `bytes` back to the system (ByteBlock::give_back_front)
  // when nothing else holds them: a checkpoint's bytes once its call has sent them, while
  // the disk write goes on. They must not be read afterwards.
  void give_back_front(std::size_t bytes) const;
};

struct PopulationFields {
  std::string_view experiment_id;  // each candidate's identity names it
  std::string_view checkpoint_id;
  std::string_view evaluation_stats;
};

// Weight texts of some of a population's genomes, by candidate, in one block: what a text
// representation's children copy their unchanged weights from (codec::WeightTexts).
struct PopulationTexts {
  core::ByteBlock slots;
  std::vector<std::optional<codec::WeightTexts>> of;  // by candidate; nullopt: none made
};

struct BytesOptions {
  unsigned threads = 1;  // write candidates side by side
  // Filled with each candidate's interpretation_digest, in candidate order.
  std::vector<std::uint64_t>* digests = nullptr;
  // The population's own genomes, which the bytes are written over (their block has
  // room for them) or else given back to the system as their candidates are written, so
  // that the population and its bytes are never both held whole: at P=100,000 that is
  // 440 MB less at the peak. They cannot be read afterwards. Only in esp's binary layout,
  // whose bytes are the genomes themselves.
  evolution::Genomes* release = nullptr;
  // The population this one was bred from, to copy from: a text representation writes
  // each weight a candidate has unchanged from a parent (every weight of an elite) as a
  // copy of that parent's text. Its genomes not held are not copied from.
  const evolution::Population* bred_from = nullptr;
  // Texts of bred_from's genomes made beforehand (read out of the client's request rather
  // than written again); those of the other genomes copied from are written.
  const PopulationTexts* bred_from_texts = nullptr;
};

// In `codec`'s representation.
Result<SharedBytes> population_bytes(const codec::CandidateCodec& codec,
                                     const evolution::Population& population,
                                     const PopulationFields& fields, const BytesOptions& options);
inline Result<SharedBytes> population_bytes(const codec::CandidateCodec& codec,
                                            const evolution::Population& population,
                                            const PopulationFields& fields, unsigned threads) {
  return population_bytes(codec, population, fields, BytesOptions{.threads = threads});
}

// A stored candidate's interpretation (`stored_codec`'s layout) in `codec`'s
// representation, written into `buffer`; kInternal, naming it, when it does not decode.
Result<std::string_view> recoded_interpretation(const codec::CandidateCodec& codec,
                                                const codec::CandidateCodec& stored_codec,
                                                const codec::CandidateView& stored,
                                                std::string& buffer);

// A stored population (`stored_codec`'s layout, as population_bytes writes it) in
// `codec`'s representation: each interpretation written anew, every other byte as stored,
// which is what protobuf serializes once each candidate is converted, without the message.
// At P=100,000 in the SDK's JSON, the parsed message, every candidate's text and their
// serialization were 3.7 GB of fresh pages; this is one block of the answer's size.
Result<SharedBytes> recoded_bytes(const codec::CandidateCodec& codec,
                                  const codec::CandidateCodec& stored_codec,
                                  std::string_view stored, unsigned threads);

// A population's bytes (in pieces, as answered) read where they lie: its candidates'
// fields as views into them, and its other fields parsed. For writing it in another form
// (REST's JSON) without a message of every candidate first.
struct PopulationView {
  SharedBytes bytes;  // what the candidates' views are into
  std::vector<codec::CandidateView> candidates;
  ::population::PopulationResponse others;  // every field but the candidates
};
Result<PopulationView> read_population(SharedBytes bytes);

// The view as its message; without interpretations for views of ids, identity and metrics
// (the dashboard's). Parsed whole, every interpretation was copied into a string of its
// own only to be dropped: at P=100,000, 490 MB in 100,000 strings, which the heap kept.
::population::PopulationResponse population_message(const PopulationView& view,
                                                    bool with_interpretations);

// The interpretation_digest of each candidate in a PopulationResponse's bytes (as
// population_bytes writes them), in candidate order: a big answer's digests are taken
// once it has gone to its call, rather than while the call waits for it.
Result<std::vector<std::uint64_t>> interpretation_digests(const SharedBytes& bytes,
                                                          unsigned threads);

// A fast digest (XXH3, 64 bits) of a candidate's interpretation bytes, to tell whether
// a client sent back exactly what it was handed. Not a defence against a client forging
// a collision: that client could only breed its own experiment from weights of its
// choosing, which it may as well start a new experiment with.
std::uint64_t interpretation_digest(std::string_view interpretation);

}  // namespace esp::population
