// A candidate's interpretation bytes in the representation its experiment uses
// (LEAF.representation, docs/interpretation.md):
//   NNWeights        UTF-8 JSON {"model_config", "model_weights"} (keras_model.h)
//   KerasNN          a whole Keras model as legacy .h5 bytes (keras_h5.h); the default
//   NNWeightsBinary  esp's own little-endian float32 layout (interpretation.h), opt-in
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "codec/weight_texts.h"
#include "core/error.h"
#include "evolution/network.h"
#include "evolution/params.h"

namespace esp::codec {

class CandidateCodec {
 public:
  // kInvalidArgument for a representation esp does not write; kInternal when a file
  // format library fails.
  static Result<CandidateCodec> create(const evolution::ExperimentParams& params);
  // esp's binary layout for the network, whatever the experiment's representation: how
  // checkpoints are stored (a third of the SDK's JSON, and read a hundred times faster).
  static CandidateCodec binary(const evolution::NetworkSpec& network);

  bool is_binary() const;

  const evolution::NetworkShape& shape() const;
  std::string encode(std::span<const float> genome) const;
  // The most bytes one genome's interpretation takes.
  std::size_t largest_encoding() const;
  // The same bytes, written faster by copying what the genome shares with the genomes it
  // was bred from (sources from texts_of or texts_from), into `buffer`: reused from one
  // genome to the next, it saves an allocation and its clearing per genome. Valid until
  // `buffer` changes.
  std::string_view encode(std::span<const float> genome,
                          std::span<const WeightTexts* const> sources, std::string& buffer) const;
  // Whether texts_of gives anything: only text gains from copying (NNWeights).
  bool keeps_texts() const;
  // A genome's weights written down in `slots` (WeightTexts::slots_bytes), to be a source
  // for the genomes bred from it; nullopt unless keeps_texts(). The genome and the slots
  // must outlive them.
  std::optional<WeightTexts> texts_of(std::span<const float> genome, std::span<char> slots) const;
  // The same texts read out of `interpretation`, which this codec wrote for the genome
  // (the caller has checked), rather than written again; nullopt unless keeps_texts() and
  // the text is laid out as this network's.
  std::optional<WeightTexts> texts_from(std::span<const float> genome,
                                        std::string_view interpretation,
                                        std::span<char> slots) const;
  // The genome from bytes this experiment's codec wrote; kInvalidArgument otherwise.
  Result<std::vector<float>> decode(std::string_view bytes) const;

  class Format;

 private:
  explicit CandidateCodec(std::shared_ptr<const Format> format) : format_(std::move(format)) {}
  std::shared_ptr<const Format> format_;  // shared: built once, copied freely
};

}  // namespace esp::codec
