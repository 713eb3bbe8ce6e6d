// Each representation round-trips a genome bit for bit and refuses another network's bytes.
#include "codec/candidate_codec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace esp::codec {
namespace {

evolution::ExperimentParams params(const std::string& representation, std::size_t units) {
  evolution::ExperimentParams p;
  p.network = {.inputs = {{"sensors", 3, {"float"}}, {"day", 2, {"workday", "weekend"}}},
               .hidden_layers = {{"h", units, evolution::Activation::kTanh, true},
                                 {"h2", 2, evolution::Activation::kRelu, false}},
               .outputs = {{"y", 2, evolution::Activation::kSoftmax, true, {"a", "b"}}}};
  p.leaf.representation = representation;
  return p;
}

class Representations : public testing::TestWithParam<std::string> {};

TEST_P(Representations, RoundTripGenomesBitForBit) {
  auto codec = CandidateCodec::create(params(GetParam(), 4));
  ASSERT_TRUE(codec.ok()) << codec.error().message;
  std::vector<float> genome(codec->shape().weight_count());
  for (std::size_t i = 0; i < genome.size(); ++i)
    genome[i] = std::sin(static_cast<float>(i) * 1.7F) * std::pow(10.0F, float(i % 9) - 4);
  genome[0] = std::numeric_limits<float>::denorm_min();
  genome[1] = -0.0F;
  const auto encoded = codec->encode(genome);
  EXPECT_LE(encoded.size(), codec->largest_encoding());
  auto decoded = codec->decode(encoded);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  ASSERT_EQ(decoded->size(), genome.size());
  for (std::size_t i = 0; i < genome.size(); ++i)
    EXPECT_EQ(std::bit_cast<std::uint32_t>((*decoded)[i]), std::bit_cast<std::uint32_t>(genome[i]))
        << i;
}

TEST_P(Representations, RefuseAnotherNetworksBytes) {
  auto mine = CandidateCodec::create(params(GetParam(), 4));
  auto other = CandidateCodec::create(params(GetParam(), 5));
  ASSERT_TRUE(mine.ok() && other.ok());
  const auto bytes = other->encode(std::vector<float>(other->shape().weight_count(), 0.5F));
  auto refused = mine->decode(bytes);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Code::kInvalidArgument);
  EXPECT_FALSE(mine->decode(bytes.substr(0, bytes.size() / 2)).ok());
  EXPECT_FALSE(mine->decode("").ok());
}

INSTANTIATE_TEST_SUITE_P(EveryOne, Representations,
                         testing::Values("NNWeights", "KerasNN", "NNWeightsBinary"));

TEST(CandidateCodec, NonFiniteWeightsTravelAsPythonsJsonSpellings) {
  auto codec = CandidateCodec::create(params("NNWeights", 1));
  ASSERT_TRUE(codec.ok());
  std::vector<float> genome(codec->shape().weight_count(), 1.0F);
  genome[0] = std::numeric_limits<float>::infinity();
  genome[1] = -std::numeric_limits<float>::infinity();
  const auto text = codec->encode(genome);
  EXPECT_NE(text.find("[[Infinity],[-Infinity]"), std::string::npos);
  auto decoded = codec->decode(text);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ((*decoded)[0], genome[0]);
}

// Every weight at the longest text a float has: the interpretation is written into room
// sized for it (the room once assumed 15 characters a weight, and 17 overran it).
TEST(CandidateCodec, WeightsOfTheLongestTextFitTheirRoom) {
  auto codec = CandidateCodec::create(params("NNWeights", 64));
  ASSERT_TRUE(codec.ok());
  const std::vector<float> genome(codec->shape().weight_count(), -1.00000005e15F);
  const auto text = codec->encode(genome);
  EXPECT_NE(text.find("[[-1000000050000000,-1000000050000000,"), std::string::npos);
  EXPECT_LE(text.size(), codec->largest_encoding());
  auto decoded = codec->decode(text);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(*decoded, genome);
}

// A child written from its parents' texts is the same text as one written afresh: the
// weights it shares with either parent, those it does not (its mutations, a zero whose
// sign differs), the texts too long for a slot, and the values JSON lacks.
TEST(CandidateCodec, AChildWrittenFromItsParentsTextsIsTheSameText) {
  auto codec = CandidateCodec::create(params("NNWeights", 8));
  ASSERT_TRUE(codec.ok());
  const std::size_t weights = codec->shape().weight_count();
  std::vector<float> mother(weights), father(weights), child(weights);
  for (std::size_t i = 0; i < weights; ++i) {
    mother[i] = std::sin(static_cast<float>(i) * 0.37F) * std::pow(10.0F, float(i % 7) - 3);
    father[i] = std::cos(static_cast<float>(i) * 0.91F);
    child[i] = i % 3 == 0 ? mother[i] : i % 3 == 1 ? father[i] : mother[i] * 1.01F;
  }
  mother[0] = child[0] = -1.00000005e15F;  // 17 characters: not kept in a slot
  mother[1] = 0.0F;
  child[1] = -0.0F;
  father[2] = child[2] = std::numeric_limits<float>::infinity();
  mother[3] = child[3] = std::numeric_limits<float>::quiet_NaN();
  std::vector<char> slots(2 * WeightTexts::slots_bytes(weights));
  const std::span<char> mother_slots(slots.data(), slots.size() / 2);
  const auto mother_texts = codec->texts_of(mother, mother_slots);
  const auto father_texts = codec->texts_of(father, std::span(slots).subspan(slots.size() / 2));
  ASSERT_TRUE(codec->keeps_texts() && mother_texts && father_texts);
  const WeightTexts* sources[] = {&*mother_texts, &*father_texts};
  std::string buffer;  // reused, as a thread encoding a population does
  EXPECT_EQ(codec->encode(child, sources, buffer), codec->encode(child));
  EXPECT_EQ(codec->encode(mother, sources, buffer), codec->encode(mother));
  EXPECT_EQ(codec->encode(child, {}, buffer), codec->encode(child));
  // A child whose every text fits a slot has each weight's text picked first, then copied
  // (a child with one too long is written afresh): children of every mix of parents and
  // mutations, an elite (one source) among them. Picked by bits alone, 16 weights at a
  // time, from parents whose texts all fit their slots; else weight by weight.
  std::vector<float> fitting = mother;
  fitting[0] = 0.5F;
  std::vector<char> fitting_slots(WeightTexts::slots_bytes(weights));
  const auto fitting_texts = codec->texts_of(fitting, fitting_slots);
  ASSERT_TRUE(fitting_texts && fitting_texts->all_fit() && !mother_texts->all_fit());
  // Read back out of an interpretation, they tell the same.
  std::vector<char> read_slots(WeightTexts::slots_bytes(weights));
  EXPECT_TRUE(codec->texts_from(fitting, codec->encode(fitting), read_slots)->all_fit());
  EXPECT_FALSE(codec->texts_from(mother, codec->encode(mother), read_slots)->all_fit());
  std::uint32_t draw = 7;
  const auto next = [&draw] { return draw = draw * 1664525U + 1013904223U; };
  for (int round = 0; round < 80; ++round) {
    const bool fits = round % 2 == 0;
    const std::vector<float>& other = fits ? fitting : mother;
    const WeightTexts* parents[] = {fits ? &*fitting_texts : &*mother_texts, &*father_texts};
    std::vector<float> bred(weights);
    for (std::size_t i = 0; i < weights; ++i) {
      const std::uint32_t pick = next() >> 24;
      bred[i] = pick < 100 ? father[i] : pick < 200 ? other[i] : other[i] * 1.37F;
    }
    bred[0] = father[0];  // not the mother's text too long for a slot
    const auto from = std::span(parents).first(round % 8 < 2 ? 1 : 2);
    if (from.size() == 1) bred = other, bred[0] = 0.25F;  // an elite, but for one weight
    EXPECT_EQ(codec->encode(bred, from, buffer), codec->encode(bred)) << round;
  }
}

// A parent's texts read out of the interpretation it was handed out as (the next request
// carries it back) are the texts written: a child copying them is the child written
// afresh. Every length a weight's text takes, short and over a slot, and the values JSON
// lacks, each beside every separator the layout has (",", "],[", "]]", "]").
TEST(CandidateCodec, TextsReadFromAnInterpretationAreTheTextsItWasWrittenWith) {
  auto codec = CandidateCodec::create(params("NNWeights", 8));
  ASSERT_TRUE(codec.ok());
  const std::size_t weights = codec->shape().weight_count();
  const float special[] = {0.0F,
                           -0.0F,
                           1.0F,
                           -1.00000005e15F,  // 17 characters
                           1.00000005e15F,   // 16
                           -1.2345678e-5F,
                           std::numeric_limits<float>::denorm_min(),
                           std::numeric_limits<float>::max(),
                           std::numeric_limits<float>::infinity(),
                           -std::numeric_limits<float>::infinity(),
                           std::numeric_limits<float>::quiet_NaN()};
  std::vector<float> parent(weights), child(weights);
  for (std::size_t i = 0; i < weights; ++i) {
    parent[i] = i % 2 == 0
                    ? special[(i / 2) % std::size(special)]
                    : std::sin(static_cast<float>(i) * 0.37F) * std::pow(10.0F, float(i % 9) - 5);
    child[i] = i % 5 == 4 ? parent[i] * 1.5F : parent[i];
  }
  const std::string handed_out = codec->encode(parent);
  std::vector<char> slots(WeightTexts::slots_bytes(weights));
  const auto texts = codec->texts_from(parent, handed_out, slots);
  ASSERT_TRUE(texts);
  // Slot for slot what writing them gives: each text within a slot, and its length.
  std::vector<char> written_slots(slots.size());
  const auto written = codec->texts_of(parent, written_slots);
  ASSERT_TRUE(written);
  std::size_t held = 0;
  for (std::size_t i = 0; i < weights; ++i) {
    const std::size_t length = written->lengths()[i];
    ASSERT_EQ(texts->lengths()[i], length) << i;
    EXPECT_EQ(std::string_view(texts->slot(i), length), std::string_view(written->slot(i), length))
        << i;
    held += length > 0;
  }
  EXPECT_GT(held, weights / 2);  // all but the texts over a slot
  const WeightTexts* sources[] = {&*texts};
  std::string buffer;
  EXPECT_EQ(codec->encode(parent, sources, buffer), handed_out);
  EXPECT_EQ(codec->encode(child, sources, buffer), codec->encode(child));
}

TEST(CandidateCodec, TextsAreNotReadFromAnInterpretationLaidOutOtherwise) {
  auto codec = CandidateCodec::create(params("NNWeights", 8));
  auto other = CandidateCodec::create(params("NNWeights", 3));
  ASSERT_TRUE(codec.ok() && other.ok());
  const std::vector<float> genome(codec->shape().weight_count(), 0.25F);
  const std::string text = codec->encode(genome);
  std::vector<char> slots(WeightTexts::slots_bytes(genome.size()));
  EXPECT_TRUE(codec->texts_from(genome, text, slots));
  std::string empty_number = text;
  empty_number.replace(empty_number.find("0.25,0.25"), 9, "0.25,");
  std::string closed_early = text;  // a row one weight short
  closed_early.replace(closed_early.find("0.25,0.25"), 9, "0.25]0.25");
  const std::string refused[] = {text.substr(0, text.size() - 1),
                                 text + " ",
                                 empty_number,
                                 closed_early,
                                 other->encode(std::vector<float>(other->shape().weight_count())),
                                 "",
                                 "{}"};
  for (const auto& bad : refused)
    EXPECT_FALSE(codec->texts_from(genome, bad, slots))
        << bad.substr(bad.size() > 80 ? bad.size() - 80 : 0);
  // A text longer than the 64 bytes searched at once is still read (and too long for
  // its slot, so written afresh), at the start of the text as at its end.
  for (const std::size_t at : {text.find("0.25"), text.rfind("0.25")}) {
    std::string long_number = text;
    long_number.replace(at, 4, "0." + std::string(80, '2') + "5");
    const auto texts = codec->texts_from(genome, long_number, slots);
    ASSERT_TRUE(texts) << at;
    const std::size_t i = at == text.find("0.25") ? 0 : genome.size() - 1;
    EXPECT_EQ(texts->lengths()[i], 0) << at;
    EXPECT_EQ(texts->lengths()[1], 4) << at;
  }
  // A genome of another length, or too few slots for it.
  EXPECT_FALSE(codec->texts_from(std::span(genome).first(genome.size() - 1), text, slots));
  EXPECT_FALSE(codec->texts_from(genome, text, std::span(slots).first(slots.size() - 1)));
}

TEST(CandidateCodec, OnlyTextKeepsWeightTexts) {
  for (const char* representation : {"KerasNN", "NNWeightsBinary"}) {
    auto codec = CandidateCodec::create(params(representation, 4));
    ASSERT_TRUE(codec.ok());
    const std::vector<float> genome(codec->shape().weight_count(), 0.5F);
    EXPECT_FALSE(codec->keeps_texts()) << representation;
    std::vector<char> slots(WeightTexts::slots_bytes(genome.size()));
    EXPECT_FALSE(codec->texts_of(genome, slots)) << representation;
    EXPECT_FALSE(codec->texts_from(genome, codec->encode(genome), slots)) << representation;
  }
}

TEST(CandidateCodec, RefusesARepresentationItDoesNotWrite) {
  auto refused = CandidateCodec::create(params("RuleBased", 4));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("NNWeights, KerasNN or NNWeightsBinary"),
            std::string::npos);
}

}  // namespace
}  // namespace esp::codec
