// One genome's weights as text, kept for writing the genomes bred from it. A GA child
// has most of its weights unchanged from a parent (all but the mutated ones: 90% with
// the default mutation_probability), and copying a weight's text costs a fraction of
// writing it again.
#pragma once

#include <cstddef>
#include <cstring>
#include <span>

#include "codec/float_text.h"

namespace esp::codec {

class WeightTexts {
 public:
  // Each weight's text in a slot of kSlotBytes: the characters, then their count (0 for
  // a text too long for the slot, which is then written afresh).
  static constexpr std::size_t kSlotBytes = 16;

  // The bytes of slots a genome's texts take.
  static std::size_t slots_bytes(std::size_t weights) { return weights * kSlotBytes; }

  // `write(out, value)` writes a weight's text within kFloatTextRoom bytes at out and
  // returns its end. Both the genome and `slots` (slots_bytes of the genome's size: many
  // genomes' texts share one block, reused generation after generation) must outlive
  // these texts.
  template <typename Write>
  WeightTexts(std::span<const float> genome, std::span<char> slots, Write write)
      : genome_(genome), slots_(slots.data()) {
    for (std::size_t i = 0; i < genome.size(); ++i) {
      char text[kFloatTextRoom] = {};
      const auto length = static_cast<std::size_t>(write(text, genome[i]) - text);
      char* slot = slots.data() + i * kSlotBytes;
      std::memcpy(slot, text, kSlotBytes - 1);
      slot[kSlotBytes - 1] = static_cast<char>(length < kSlotBytes ? length : 0);
      all_fit_ &= length < kSlotBytes;
    }
  }

  // Over `filled` slots, written as the constructor above writes them (from a text the
  // genome was written as: CandidateCodec::texts_from); `all_fit` if no text was too long.
  WeightTexts(std::span<const float> genome, const char* filled, bool all_fit)
      : genome_(genome), slots_(filled), all_fit_(all_fit) {}

  std::span<const float> genome() const { return genome_; }

  // Weight i's slot: its text, then the text's length (0: too long, written afresh).
  const char* slot(std::size_t i) const { return slots_ + i * kSlotBytes; }
  // Whether every text fits its slot (no length is 0), as almost always.
  bool all_fit() const { return all_fit_; }

 private:
  std::span<const float> genome_;
  const char* slots_;
  bool all_fit_ = true;
};

}  // namespace esp::codec
