// The original ESP service's Keras model for a network (evolution/network.h), written
// down as Keras 3 itself does, and the NNWeights interpretation that carries it:
// UTF-8 JSON {"model_config": <Functional.get_config()>, "model_weights": {<layer>:
// [kernel, bias]}} (docs/interpretation.md).
#pragma once

#include <nlohmann/json.hpp>
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

// Functional.get_config() of the model: name, trainable, layers (InputLayer per input,
// a Dense per input branch, add, first_hidden_activation or concatenate_1, the further
// hidden Dense layers, a Dense per output) with their inbound nodes, input_layers and
// output_layers.
nlohmann::json model_config(const evolution::NetworkSpec& spec);

// Encodes and decodes one network's NNWeights interpretations; the model config is
// written once and reused for every candidate.
class NNWeightsCodec {
 public:
  explicit NNWeightsCodec(const evolution::NetworkSpec& spec);

  const evolution::NetworkShape& shape() const { return shape_; }
  std::string encode(std::span<const float> genome) const;
  // The same text, copying each weight equal (bit for bit) to a source's at the same place
  // from that source's texts: the sources are the genomes it was bred from (the first
  // two are copied from: a crossover has two parents). Written into `buffer`, grown when
  // needed and never cleared, so a thread encoding one genome after another allocates
  // and zeroes nothing per genome; valid until `buffer` changes.
  std::string_view encode(std::span<const float> genome,
                          std::span<const WeightTexts* const> sources, std::string& buffer) const;
  // The most bytes encode writes: every weight at its longest text.
  std::size_t largest_encoding() const;
  // A genome's weight texts in `slots`, to be a source (see WeightTexts).
  WeightTexts texts_of(std::span<const float> genome, std::span<char> slots) const;
  // The same texts read out of `interpretation`, the genome's as this codec wrote it (the
  // caller knows: a digest of what was handed out matched), without writing any number
  // again; nullopt for a text not laid out as this network's.
  std::optional<WeightTexts> texts_from(std::span<const float> genome,
                                        std::string_view interpretation,
                                        std::span<char> slots) const;
  // The genome from an interpretation this codec wrote; kInvalidArgument naming what
  // differs for anything else.
  Result<std::vector<float>> decode(std::string_view interpretation) const;

 private:
  // Writes at `out`, which has room for largest_encoding() + kFloatTextRoom bytes;
  // returns how many it wrote.
  template <typename PutWeight>
  std::size_t write_interpretation(PutWeight put_weight, char* out) const;
  template <typename ReadNumbers>
  std::optional<std::string> read_interpretation(std::string_view text,
                                                 ReadNumbers read_numbers) const;

  evolution::NetworkShape shape_;
  std::string prefix_;                   // {"model_config":...,"model_weights":{
  std::vector<std::string> layer_keys_;  // each layer's name as a JSON string
  std::size_t structure_bytes_ = 0;      // the text around the weights, at most
};

}  // namespace esp::codec
