// One genome's weights as text, kept for writing the genomes bred from it. A GA child
// has most of its weights unchanged from a parent (all but the mutated ones: 90% with
// the default mutation_probability), and copying a weight's text costs a fraction of
// writing it again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "codec/float_text.h"

namespace esp::codec {

class WeightTexts {
 public:
  // Each weight's text in a slot of kSlotBytes (the characters, the rest unspecified), and
  // after all the slots each text's length in a byte: 0 for a text too long for its slot,
  // which is then written afresh. The lengths apart, a child's copies read its lengths
  // from one short array instead of waiting on its parents' slots for each one.
  static constexpr std::size_t kSlotBytes = 16;

  // The bytes of slots and lengths a genome's texts take.
  static std::size_t slots_bytes(std::size_t weights) { return weights * (kSlotBytes + 1); }
  // A text's length as kept: 0 for a text too long for its slot.
  static std::uint8_t kept_length(std::size_t length) {
    return static_cast<std::uint8_t>(length < kSlotBytes ? length : 0);
  }

  // `write(out, value)` writes a weight's text within kFloatTextRoom bytes at out and
  // returns its end. Both the genome and `slots` (slots_bytes of the genome's size: many
  // genomes' texts share one block, reused generation after generation) must outlive
  // these texts.
  template <typename Write>
  WeightTexts(std::span<const float> genome, std::span<char> slots, Write write)
      : genome_(genome), slots_(slots.data()) {
    auto* lengths = lengths_of(slots.data(), genome.size());
    for (std::size_t i = 0; i < genome.size(); ++i) {
      char text[kFloatTextRoom] = {};
      const auto length = static_cast<std::size_t>(write(text, genome[i]) - text);
      std::memcpy(slots.data() + i * kSlotBytes, text, kSlotBytes);
      lengths[i] = kept_length(length);
      all_fit_ &= lengths[i] != 0;
    }
  }

  // Over `filled` slots and lengths, written as the constructor above writes them (from a
  // text the genome was written as: CandidateCodec::texts_from); `all_fit` if no text was
  // too long.
  WeightTexts(std::span<const float> genome, const char* filled, bool all_fit)
      : genome_(genome), slots_(filled), all_fit_(all_fit) {}

  // Where the lengths of a genome of `weights` begin in its slots.
  static std::uint8_t* lengths_of(char* slots, std::size_t weights) {
    return reinterpret_cast<std::uint8_t*>(slots + weights * kSlotBytes);
  }

  std::span<const float> genome() const { return genome_; }

  // Weight i's slot: its text and what follows it, kSlotBytes in all.
  const char* slot(std::size_t i) const { return slots_ + i * kSlotBytes; }
  // Each weight's text length (0: too long for its slot, written afresh).
  const std::uint8_t* lengths() const {
    return reinterpret_cast<const std::uint8_t*>(slots_ + genome_.size() * kSlotBytes);
  }
  // Whether every text fits its slot (no length is 0), as almost always.
  bool all_fit() const { return all_fit_; }

 private:
  std::span<const float> genome_;
  const char* slots_;
  bool all_fit_ = true;
};

}  // namespace esp::codec
