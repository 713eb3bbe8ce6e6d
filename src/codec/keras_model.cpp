#include "codec/keras_model.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>

#include "codec/float_text.h"

namespace esp::codec {
namespace {

using Json = nlohmann::json;

// Keras' serialize_keras_object of a built-in object: module, class, config.
Json keras_object(std::string_view module, std::string_view class_name, Json config) {
  return {{"module", module},
          {"class_name", class_name},
          {"config", std::move(config)},
          {"registered_name", nullptr}};
}

Json dtype_policy() {
  return keras_object("keras", "DTypePolicy", {{"name", "float32"}});
}

Json batch_shape(std::size_t units) {
  return Json::array({nullptr, units});
}

// A KerasTensor as a node argument: the output `tensor` of `layer`'s first call.
Json keras_tensor(std::string_view layer, std::size_t units) {
  return {{"class_name", "__keras_tensor__"},
          {"config",
           {{"shape", batch_shape(units)},
            {"dtype", "float32"},
            {"keras_history", Json::array({layer, 0, 0})}}}};
}

struct Tensor {
  std::string layer;
  std::size_t units = 0;
};

Json node(Json args) {
  return Json::array({{{"args", std::move(args)}, {"kwargs", Json::object()}}});
}

// A layer called on one tensor, or on a list of them (add, concatenate).
Json called_layer(std::string_view class_name, Json config, const std::vector<Tensor>& inputs,
                  bool list_argument) {
  const std::string name = config["name"];
  Json layer = keras_object("keras.layers", class_name, std::move(config));
  Json tensors = Json::array();
  Json shapes = Json::array();
  for (const auto& input : inputs) {
    tensors.push_back(keras_tensor(input.layer, input.units));
    shapes.push_back(batch_shape(input.units));
  }
  layer["build_config"] = {{"input_shape", list_argument ? shapes : shapes.front()}};
  layer["name"] = name;
  layer["inbound_nodes"] = node(list_argument ? Json::array({tensors}) : tensors);
  return layer;
}

Json base_config(std::string_view name) {
  return {{"name", name}, {"trainable", true}, {"dtype", dtype_policy()}};
}

Json dense(const std::string& name, std::size_t units, evolution::Activation activation,
           bool use_bias, const Tensor& input) {
  Json config = base_config(name);
  config.update({{"units", units},
                 {"activation", evolution::name_of(activation)},
                 {"use_bias", use_bias},
                 {"kernel_initializer",
                  keras_object("keras.initializers", "GlorotUniform", {{"seed", nullptr}})},
                 {"bias_initializer", keras_object("keras.initializers", "Zeros", Json::object())},
                 {"kernel_regularizer", nullptr},
                 {"bias_regularizer", nullptr},
                 {"kernel_constraint", nullptr},
                 {"bias_constraint", nullptr}});
  return called_layer("Dense", std::move(config), {input}, false);
}

// The most characters a weight and its comma take.
constexpr std::size_t kLongestWeight = kLongestFloatText + 1;

// The shortest text that reads back as the same float at `out`, returning its end;
// Python's spellings for the values JSON lacks (its json module reads them).
char* write_number(char* out, float value) {
  const auto put = [out](std::string_view text) {
    return std::copy(text.begin(), text.end(), out);
  };
  if (std::isnan(value)) return put("NaN");
  if (std::isinf(value)) return put(value > 0 ? "Infinity" : "-Infinity");
  return write_shortest(out, value);
}

// Reads what write_number wrote, strictly, advancing `at`.
bool read_number(std::string_view text, std::size_t& at, float& value) {
  for (auto [token, special] :
       {std::pair{std::string_view("NaN"), std::numeric_limits<float>::quiet_NaN()},
        std::pair{std::string_view("Infinity"), std::numeric_limits<float>::infinity()},
        std::pair{std::string_view("-Infinity"), -std::numeric_limits<float>::infinity()}}) {
    if (text.substr(at, token.size()) == token) {
      value = special;
      at += token.size();
      return true;
    }
  }
  auto [end, failure] = std::from_chars(text.data() + at, text.data() + text.size(), value);
  if (failure != std::errc()) return false;
  at = static_cast<std::size_t>(end - text.data());
  return true;
}

// The length of the number at `at`: up to the next ',' or ']', which every weight's text
// is followed by; 0 for none. Sixteen bytes at once where the text has them, without a
// branch on where the end falls: a byte-wise search costs a mispredicted exit per weight.
std::size_t number_length(std::string_view text, std::size_t at) {
  if constexpr (std::endian::native == std::endian::little) {
    if (at + 16 <= text.size()) {
      constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
      // Marks the bytes of `word` that are `c`. Only bytes after a true match can be
      // marked wrongly (a borrow), so the first mark, the lowest in little-endian, is exact.
      const auto marks = [](std::uint64_t word, char c) {
        const std::uint64_t x = word ^ (kOnes * static_cast<unsigned char>(c));
        return (x - kOnes) & ~x & (kOnes * 0x80);
      };
      std::uint64_t low = 0;
      std::uint64_t high = 0;
      std::memcpy(&low, text.data() + at, 8);
      std::memcpy(&high, text.data() + at + 8, 8);
      const std::uint64_t in_low = marks(low, ',') | marks(low, ']');
      const std::uint64_t in_high = marks(high, ',') | marks(high, ']');
      const auto found = static_cast<std::size_t>(in_low != 0 ? std::countr_zero(in_low) / 8
                                                              : 8 + std::countr_zero(in_high) / 8);
      if (found < 16) return found;
    }
  }
  const std::size_t end = text.find_first_of(",]", at);
  return end == std::string_view::npos ? 0 : end - at;
}

bool expect(std::string_view text, std::size_t& at, std::string_view token) {
  if (text.substr(at, token.size()) != token) return false;
  at += token.size();
  return true;
}

// The comma between two weights, checked in place: this runs once per weight.
bool expect_comma(std::string_view text, std::size_t& at) {
  if (at >= text.size() || text[at] != ',') return false;
  ++at;
  return true;
}

// Copies the `length` characters at `at` into weight i's slot and its length into
// `lengths` (WeightTexts); false for a text too long for its slot.
bool put_slot(std::string_view text, std::size_t at, std::size_t length, char* slots,
              std::uint8_t* lengths, std::size_t i) {
  char* slot = slots + i * WeightTexts::kSlotBytes;
  if (at + WeightTexts::kSlotBytes <= text.size()) {  // a copy of fixed size
    std::memcpy(slot, text.data() + at, WeightTexts::kSlotBytes);
  } else {
    std::memcpy(slot, text.data() + at, text.size() - at);
  }
  const std::uint8_t kept = WeightTexts::kept_length(length);
  lengths[i] = kept;
  return kept != 0;
}

#if defined(__SSE2__)
// A bit for each of the 64 bytes at `from` that is ',' or ']'.
std::uint64_t separators_in_64(const char* from) {
  const __m128i comma = _mm_set1_epi8(',');
  const __m128i close = _mm_set1_epi8(']');
  std::uint64_t bits = 0;
  for (int k = 0; k < 4; ++k) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(from + 16 * k));
    const __m128i found = _mm_or_si128(_mm_cmpeq_epi8(bytes, comma), _mm_cmpeq_epi8(bytes, close));
    bits |= std::uint64_t{static_cast<std::uint32_t>(_mm_movemask_epi8(found))} << (16 * k);
  }
  return bits;
}
#endif

// Copies the texts of weights [first, first + count), a comma between, at `at` into their
// slots and lengths, and moves `at` past them; false for an empty one or anything but a
// comma between. `all_fit` turns false if a text is too long for its slot.
// The separators are found 64 bytes at a time, a bit each, so each text's end comes from
// the bits left by the one before rather than from a scan that starts where it starts:
// that scan was a chain of dependent loads, one per weight.
bool copy_numbers(std::string_view text, std::size_t& at, std::size_t first, std::size_t count,
                  char* slots, std::uint8_t* lengths, bool& all_fit) {
  std::size_t j = 0;
#if defined(__SSE2__)
  while (j < count && at + 64 <= text.size()) {
    const std::size_t from = at;
    for (std::uint64_t ends = separators_in_64(text.data() + from); ends != 0 && j < count;
         ends &= ends - 1) {
      const std::size_t end = from + static_cast<std::size_t>(std::countr_zero(ends));
      if (end == at) return false;  // an empty text
      all_fit &= put_slot(text, at, end - at, slots, lengths, first + j);
      at = end;
      if (++j < count && !expect_comma(text, at)) return false;
    }
    if (at == from) break;  // no text ends within 64 bytes: left to the scan below
  }
#endif
  while (j < count) {  // the text's last 64 bytes, or without SSE2
    const std::size_t length = number_length(text, at);
    if (length == 0) return false;
    all_fit &= put_slot(text, at, length, slots, lengths, first + j);
    at += length;
    if (++j < count && !expect_comma(text, at)) return false;
  }
  return true;
}

}  // namespace

Json model_config(const evolution::NetworkSpec& spec) {
  Json layers = Json::array();
  Json input_layers = Json::array();
  std::vector<Tensor> inputs;
  for (const auto& input : spec.inputs) {
    const std::string name = input.name + "_input";
    layers.push_back({{"module", "keras.layers"},
                      {"class_name", "InputLayer"},
                      {"config",
                       {{"batch_shape", batch_shape(input.size)},
                        {"dtype", "float32"},
                        {"sparse", false},
                        {"ragged", false},
                        {"name", name},
                        {"optional", false}}},
                      {"registered_name", nullptr},
                      {"name", name},
                      {"inbound_nodes", Json::array()}});
    input_layers.push_back(Json::array({name, 0, 0}));
    inputs.push_back({name, input.size});
  }
  Tensor last;
  const bool branches = !spec.hidden_layers.empty() && spec.hidden_layers.front().units > 0;
  if (branches) {
    const auto& first = spec.hidden_layers.front();
    std::vector<Tensor> summed;
    for (std::size_t i = 0; i < spec.inputs.size(); ++i) {
      layers.push_back(dense(spec.inputs[i].name, first.units, evolution::Activation::kLinear,
                             first.use_bias, inputs[i]));
      summed.push_back({spec.inputs[i].name, first.units});
    }
    last = summed.front();
    if (summed.size() > 1) {
      layers.push_back(called_layer("Add", base_config("add"), summed, true));
      last = {"add", first.units};
    }
    Json activation = base_config("first_hidden_activation");
    activation["activation"] = evolution::name_of(first.activation);
    layers.push_back(called_layer("Activation", std::move(activation), {last}, false));
    last = {"first_hidden_activation", first.units};
  } else if (inputs.size() > 1) {
    std::size_t width = 0;
    for (const auto& input : inputs)
      width += input.units;
    Json concatenate = base_config("concatenate_1");
    concatenate["axis"] = -1;
    layers.push_back(called_layer("Concatenate", std::move(concatenate), inputs, true));
    last = {"concatenate_1", width};
  } else {
    last = inputs.front();
  }
  for (std::size_t i = 1; i < spec.hidden_layers.size(); ++i) {
    const auto& hidden = spec.hidden_layers[i];
    layers.push_back(dense(hidden.name, hidden.units, hidden.activation, hidden.use_bias, last));
    last = {hidden.name, hidden.units};
  }
  Json output_layers = Json::array();
  for (const auto& output : spec.outputs) {
    layers.push_back(dense(output.name, output.size, output.activation, output.use_bias, last));
    output_layers.push_back(Json::array({output.name, 0, 0}));
  }
  return {{"name", "functional"},
          {"trainable", true},
          {"layers", std::move(layers)},
          {"input_layers", std::move(input_layers)},
          {"output_layers", std::move(output_layers)}};
}

NNWeightsCodec::NNWeightsCodec(const evolution::NetworkSpec& spec)
    : shape_(spec),
      prefix_("{\"model_config\":" + model_config(spec).dump() + ",\"model_weights\":{") {
  structure_bytes_ = prefix_.size() + 2;
  for (const auto& layer : shape_.layers()) {
    layer_keys_.push_back(Json(layer.name).dump());
    // ",<key>:[[[", "],[" between rows, "]],[", "]]"
    structure_bytes_ += layer_keys_.back().size() + 3 * layer.inputs + 16;
  }
}

// Written through a cursor into room for the longest text of every weight: appending
// weight by weight cost a third of the time.
template <typename PutWeight>
std::size_t NNWeightsCodec::write_interpretation(PutWeight put_weight, char* out) const {
  char* at = std::copy(prefix_.begin(), prefix_.end(), out);
  const auto put = [&at](std::string_view text) { at = std::copy(text.begin(), text.end(), at); };
  bool first_layer = true;
  for (const auto& layer : shape_.layers()) {
    if (!first_layer) *at++ = ',';
    first_layer = false;
    put(layer_keys_[&layer - shape_.layers().data()]);
    put(":[[[");  // [kernel rows..., bias]
    // In locals: the text is written through a char*, which may alias anything, so the
    // layer's fields would be read again after every store, each read waiting on it.
    const std::size_t outputs = layer.outputs;
    const auto put_row = [&at, &put_weight, outputs](std::size_t first) {
      for (std::size_t i = first; i < first + outputs; ++i) {
        if (i > first) *at++ = ',';
        at = put_weight(at, i);
      }
    };
    for (std::size_t i = 0; i < layer.inputs; ++i) {
      if (i > 0) put("],[");
      put_row(layer.offset + i * outputs);
    }
    put("]]");
    if (layer.use_bias) {
      put(",[");
      put_row(layer.bias_offset());
      *at++ = ']';
    }
    *at++ = ']';
  }
  put("}}");
  return static_cast<std::size_t>(at - out);
}

std::size_t NNWeightsCodec::largest_encoding() const {
  return structure_bytes_ + shape_.weight_count() * kLongestWeight;
}

std::string NNWeightsCodec::encode(std::span<const float> genome) const {
  std::string out;
  out.resize(encode(genome, {}, out).size());
  return out;
}

namespace {

// Where each weight of a child's text comes from: 0 its first source's slot, 1 its
// second's, 2 its own (mutated, or too long for a parent's slot), written beside them;
// and each text's length.
struct PickedTexts {
  std::array<const char*, 3> slots;
  const std::uint8_t* from;
  const std::uint8_t* lengths;
};

// Picks every weight's text and its length first and writes the child's own ones next,
// so that the copies after have no branch, nor their addresses a compare or a parent's
// slot to wait on: deciding and copying weight by weight stalled on every mutated weight
// (one in ten, at random), and each copy's end read from the slot it copied waited on
// that slot's load (a P=1000 answer took 47-53 ms so, 40-41 with the lengths gathered).
// Nullopt when an own text is too long for a slot. Written in `buffer` from `at`.
std::optional<PickedTexts> pick_texts(std::span<const float> genome, const WeightTexts& first,
                                      const WeightTexts& second, std::string& buffer,
                                      std::size_t at) {
  constexpr std::size_t kSlot = WeightTexts::kSlotBytes;
  const std::size_t weights = genome.size();
  // Own slots (room past the last for write_number), the own weights' indexes, `from`,
  // the lengths.
  const std::size_t slots_bytes = weights * kSlot + kFloatTextRoom;
  at = (at + alignof(std::uint32_t) - 1) / alignof(std::uint32_t) * alignof(std::uint32_t);
  const std::size_t needed = at + slots_bytes + weights * sizeof(std::uint32_t) + 2 * weights;
  if (buffer.size() < needed) buffer.resize(needed);
  char* own = buffer.data() + at;
  auto* owned = reinterpret_cast<std::uint32_t*>(own + slots_bytes);
  auto* from = reinterpret_cast<std::uint8_t*>(owned + weights);
  std::uint8_t* lengths = from + weights;
  // In locals: stores through from (a char type) may alias anything, and members would be
  // read again after each.
  const float* child = genome.data();
  const float* first_weights = first.genome().data();
  const float* second_weights = second.genome().data();
  const std::uint8_t* first_lengths = first.lengths();
  const std::uint8_t* second_lengths = second.lengths();
  std::size_t owned_count = 0;
  std::size_t i = 0;
#if defined(__SSE2__)
  // Sixteen weights at a time by their bits alone, when no parent's text is too long for
  // its slot (as almost always): the slots are read only to be copied.
  if (first.all_fit() && second.all_fit()) {
    const auto equal = [child](const float* other, std::size_t start) {  // 0xFF where equal
      __m128i words[4];
      for (std::size_t k = 0; k < 4; ++k) {
        words[k] = _mm_cmpeq_epi32(
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(child + start + 4 * k)),
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(other + start + 4 * k)));
      }
      return _mm_packs_epi16(_mm_packs_epi32(words[0], words[1]),
                             _mm_packs_epi32(words[2], words[3]));
    };
    const auto load = [](const std::uint8_t* bytes) {
      return _mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes));
    };
    const __m128i one = _mm_set1_epi8(1);
    const __m128i two = _mm_set1_epi8(2);
    for (; i + 16 <= weights; i += 16) {
      const __m128i in_first = equal(first_weights, i);
      const __m128i in_second = _mm_andnot_si128(in_first, equal(second_weights, i));
      const __m128i source =
          _mm_andnot_si128(in_first, _mm_sub_epi8(two, _mm_and_si128(in_second, one)));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(from + i), source);
      // An own weight's length is 0 here, and written with its text below.
      _mm_storeu_si128(reinterpret_cast<__m128i*>(lengths + i),
                       _mm_or_si128(_mm_and_si128(in_first, load(first_lengths + i)),
                                    _mm_and_si128(in_second, load(second_lengths + i))));
      for (auto own_bits = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(source, two)));
           own_bits != 0; own_bits &= own_bits - 1)
        owned[owned_count++] = static_cast<std::uint32_t>(i + std::countr_zero(own_bits));
    }
  }
#endif
  for (; i < weights; ++i) {
    // Bitwise, not &&: which parent a weight comes from is a coin toss, and a branch on it
    // mispredicts half the time.
    const auto bits = std::bit_cast<std::uint32_t>(child[i]);
    const unsigned in_first =
        static_cast<unsigned>(std::bit_cast<std::uint32_t>(first_weights[i]) == bits) &
        static_cast<unsigned>(first_lengths[i] != 0);
    const unsigned in_second =
        (in_first ^ 1U) &
        static_cast<unsigned>(std::bit_cast<std::uint32_t>(second_weights[i]) == bits) &
        static_cast<unsigned>(second_lengths[i] != 0);
    const unsigned source = (in_first ^ 1U) * (2 - in_second);
    from[i] = static_cast<std::uint8_t>(source);
    lengths[i] =
        static_cast<std::uint8_t>(in_first * first_lengths[i] + in_second * second_lengths[i]);
    owned[owned_count] = static_cast<std::uint32_t>(i);
    owned_count += source == 2;
  }
  bool too_long = false;
  for (std::size_t k = 0; k < owned_count; ++k) {
    const std::size_t i = owned[k];
    char* slot = own + i * kSlot;  // written past into the next slot, written after if own
    const auto length = static_cast<std::size_t>(write_number(slot, child[i]) - slot);
    lengths[i] = static_cast<std::uint8_t>(length);
    too_long |= length >= kSlot;
  }
  if (too_long) return std::nullopt;
  return PickedTexts{
      .slots = {first.slot(0), second.slot(0), own}, .from = from, .lengths = lengths};
}

}  // namespace

std::string_view NNWeightsCodec::encode(std::span<const float> genome,
                                        std::span<const WeightTexts* const> sources,
                                        std::string& buffer) const {
  const std::size_t room = largest_encoding() + kFloatTextRoom;
  if (buffer.size() < room) buffer.resize(room);
  const auto afresh = [genome](char* at, std::size_t i) { return write_number(at, genome[i]); };
  // A crossover's child has two parents, an elite one source: the second is the first
  // again. What picking them needs goes after the text's room.
  const auto picked =
      sources.empty() ? std::nullopt
                      : pick_texts(genome, *sources[0],
                                   sources.size() > 1 ? *sources[1] : *sources[0], buffer, room);
  if (!picked) return {buffer.data(), write_interpretation(afresh, buffer.data())};
  return {buffer.data(), write_interpretation(
                             [slots = picked->slots, from = picked->from,
                              lengths = picked->lengths](char* at, std::size_t i) {
                               std::memcpy(at, slots[from[i]] + i * WeightTexts::kSlotBytes,
                                           WeightTexts::kSlotBytes);
                               return at + lengths[i];
                             },
                             buffer.data())};
}

WeightTexts NNWeightsCodec::texts_of(std::span<const float> genome, std::span<char> slots) const {
  return WeightTexts(genome, slots, write_number);
}

// Walks an interpretation laid out as write_interpretation lays it: read_numbers(at,
// first, count) reads the texts of weights [first, first + count), a comma between, at
// `at` and moves `at` past them, or answers false. Nullopt when the text is this
// network's, else what differs.
template <typename ReadNumbers>
std::optional<std::string> NNWeightsCodec::read_interpretation(std::string_view text,
                                                               ReadNumbers read_numbers) const {
  if (!text.starts_with(prefix_)) return "its model_config differs";
  std::size_t at = prefix_.size();
  auto numbers = [&](std::size_t first, std::size_t count) {
    return read_numbers(at, first, count);
  };
  bool first_layer = true;
  for (const auto& layer : shape_.layers()) {
    const std::string& key = layer_keys_[&layer - shape_.layers().data()];
    if (!first_layer && !expect(text, at, ",")) return "layer " + layer.name;
    first_layer = false;
    if (!expect(text, at, key) || !expect(text, at, ":[[[")) {
      return "layer " + layer.name + " is not where it belongs";
    }
    for (std::size_t i = 0; i < layer.inputs; ++i) {
      if (i > 0 && !expect(text, at, "],[")) return "the kernel of " + layer.name;
      if (!numbers(layer.offset + i * layer.outputs, layer.outputs))
        return "the kernel of " + layer.name;
    }
    if (!expect(text, at, "]]")) return "the kernel of " + layer.name;
    if (layer.use_bias &&
        (!expect(text, at, ",[") || !numbers(layer.bias_offset(), layer.outputs) ||
         !expect(text, at, "]"))) {
      return "the bias of " + layer.name;
    }
    if (!expect(text, at, "]")) return "layer " + layer.name;
  }
  if (!expect(text, at, "}}") || at != text.size()) return "it does not end there";
  return std::nullopt;
}

Result<std::vector<float>> NNWeightsCodec::decode(std::string_view text) const {
  std::vector<float> genome(shape_.weight_count());
  const auto differs =
      read_interpretation(text, [&](std::size_t& at, std::size_t first, std::size_t count) {
        for (std::size_t j = 0; j < count; ++j) {
          if (j > 0 && !expect_comma(text, at)) return false;
          if (!read_number(text, at, genome[first + j])) return false;
        }
        return true;
      });
  if (differs)
    return Error{Code::kInvalidArgument,
                 "interpretation is not this network's NNWeights: " + *differs};
  return genome;
}

std::optional<WeightTexts> NNWeightsCodec::texts_from(std::span<const float> genome,
                                                      std::string_view interpretation,
                                                      std::span<char> slots) const {
  if (genome.size() != shape_.weight_count() ||
      slots.size() < WeightTexts::slots_bytes(genome.size()))
    return std::nullopt;
  bool all_fit = true;
  std::uint8_t* lengths = WeightTexts::lengths_of(slots.data(), genome.size());
  const auto differs = read_interpretation(
      interpretation, [&](std::size_t& at, std::size_t first, std::size_t count) {
        return copy_numbers(interpretation, at, first, count, slots.data(), lengths, all_fit);
      });
  if (differs) return std::nullopt;
  return WeightTexts(genome, slots.data(), all_fit);
}

}  // namespace esp::codec
