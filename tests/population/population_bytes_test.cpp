// A bred population written straight as PopulationResponse bytes: byte for byte what
// protobuf serializes for the message it used to be built as, in every representation.
#include "population/population_bytes.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>

#include "codec/candidate_json.h"
#include "codec/population_json.h"
#include "population_structs.pb.h"

namespace esp::population {
namespace {

evolution::ExperimentParams params(const std::string& representation, std::size_t hidden = 4) {
  evolution::ExperimentParams p;
  p.network = {.inputs = {{"sensors", 3, {"float"}}},
               .hidden_layers = {{"h", hidden, evolution::Activation::kTanh, true}},
               .outputs = {{"y", 2, evolution::Activation::kSoftmax, true, {"a", "b"}}}};
  p.leaf.representation = representation;
  return p;
}

evolution::Population bred(const codec::CandidateCodec& codec, std::size_t count) {
  evolution::Population population{
      .generation = 7,
      .candidates = std::vector<evolution::Candidate>(count),
      .genomes = evolution::Genomes(count, codec.shape().weight_count())};
  for (std::size_t i = 0; i < count; ++i) {
    auto& candidate = population.candidates[i];
    candidate.id = "7_" + std::to_string(i);
    candidate.identity = {.generation = 7,
                          .origin = evolution::Origin::kOffspring,
                          .parents = {"6_" + std::to_string(i), "6_" + std::to_string(i + 1)},
                          .ancestor_count = 3,
                          .crossover = evolution::Crossover{},
                          .mutation = evolution::MutationType::kGaussianNoiseFixed};
    if (i % 3 == 0) {  // elites come back with their metrics
      candidate.elite = true;
      candidate.metrics = {{"score", 0.5 * double(i)}, {"cost", -1.25}};
    }
    for (std::size_t w = 0; w < codec.shape().weight_count(); ++w)
      population.genomes[i][w] = std::sin(float(i * 31 + w));
  }
  return population;
}

// How the message was built before these bytes were written directly.
std::string as_message(const codec::CandidateCodec& codec, const evolution::Population& population,
                       const PopulationFields& fields) {
  ::population::PopulationResponse message;
  message.set_generation_count(population.generation);
  message.set_checkpoint_id(std::string(fields.checkpoint_id));
  message.set_evaluation_stats(std::string(fields.evaluation_stats));
  for (std::size_t i = 0; i < population.candidates.size(); ++i) {
    const auto& from = population.candidates[i];
    auto* candidate = message.add_population();
    candidate->set_id(from.id);
    candidate->set_interpretation(codec.encode(population.genomes[i]));
    if (from.elite) candidate->set_metrics(codec::metrics_json_text(from.metrics));
    candidate->set_identity(codec::identity_json(from, fields.experiment_id));
  }
  return message.SerializeAsString();
}

class Representations : public testing::TestWithParam<std::string> {};

TEST_P(Representations, AreTheBytesProtobufWouldSerialize) {
  auto codec = codec::CandidateCodec::create(params(GetParam()));
  ASSERT_TRUE(codec.ok()) << codec.error().message;
  const PopulationFields fields{.experiment_id = "thermostat",
                                .checkpoint_id = "thermostat/7/20261202-101010.000-abcdef",
                                .evaluation_stats = R"({"server_metrics": {}})"};
  for (std::size_t count : {std::size_t{0}, std::size_t{1}, std::size_t{40}}) {
    const auto population = bred(*codec, count);
    for (unsigned threads : {1U, 3U}) {
      auto bytes = population_bytes(*codec, population, fields, threads);
      ASSERT_TRUE(bytes.ok()) << bytes.error().message;
      EXPECT_EQ(bytes->joined(), as_message(*codec, population, fields))
          << count << " candidates on " << threads << " threads";
      // Each thread's run of candidates is a piece where it was written, not moved.
      const std::size_t runs = std::min<std::size_t>(std::max<std::size_t>(count, 1), threads);
      EXPECT_EQ(bytes->pieces.size(), codec->is_binary() ? 1 : runs)
          << count << " candidates on " << threads << " threads";
    }
  }
}

// A checkpoint is stored in esp's binary layout; read back in another representation
// (GetPopulation, REST's protobuf download) it must be the very bytes the generation
// answered, or a resuming client would see other weights than it was handed.
TEST_P(Representations, AStoredPopulationIsRecodedToTheBytesItWasAnsweredWith) {
  auto codec = codec::CandidateCodec::create(params(GetParam()));
  ASSERT_TRUE(codec.ok()) << codec.error().message;
  const auto stored_codec = codec::CandidateCodec::binary(params(GetParam()).network);
  const PopulationFields fields{.experiment_id = "thermostat",
                                .checkpoint_id = "thermostat/7/20261202-101010.000-abcdef",
                                .evaluation_stats = R"({"server_metrics": {}})"};
  for (std::size_t count : {std::size_t{0}, std::size_t{1}, std::size_t{40}}) {
    const auto population = bred(*codec, count);
    auto stored = population_bytes(stored_codec, population, fields, 1);
    auto answered = population_bytes(*codec, population, fields, 3);
    ASSERT_TRUE(stored.ok() && answered.ok());
    for (unsigned threads : {1U, 3U}) {
      auto recoded = recoded_bytes(*codec, stored_codec, stored->view(), threads);
      ASSERT_TRUE(recoded.ok()) << recoded.error().message;
      EXPECT_EQ(recoded->joined(), answered->joined())
          << count << " candidates on " << threads << " threads";
    }
  }
}

TEST(PopulationBytes, ACorruptStoredPopulationIsAnErrorWhenRecoded) {
  auto codec = codec::CandidateCodec::create(params("NNWeights"));
  ASSERT_TRUE(codec.ok());
  const auto stored_codec = codec::CandidateCodec::binary(params("NNWeights").network);
  auto stored = population_bytes(stored_codec, bred(*codec, 5), {.experiment_id = "e"}, 1);
  ASSERT_TRUE(stored.ok());
  const std::string whole(stored->view());
  // Cut short; and well formed, but with a candidate's last weight cut off.
  auto cut =
      recoded_bytes(*codec, stored_codec, std::string_view(whole).substr(0, whole.size() / 2), 2);
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.error().code, Code::kInternal);
  ::population::PopulationResponse message;
  ASSERT_TRUE(message.ParseFromString(whole));
  message.mutable_population(3)->mutable_interpretation()->resize(
      message.population(3).interpretation().size() - 4);
  auto short_weights = recoded_bytes(*codec, stored_codec, message.SerializeAsString(), 2);
  ASSERT_FALSE(short_weights.ok());
  EXPECT_EQ(short_weights.error().code, Code::kInternal);
  EXPECT_NE(short_weights.error().message.find("stored candidate " + message.population(3).id()),
            std::string::npos)
      << short_weights.error().message;
}

// A view of ids, identity and metrics reads the stored bytes without copying any network.
TEST(PopulationBytes, AStoredPopulationReadWithoutInterpretationsIsOtherwiseItsMessage) {
  auto codec = codec::CandidateCodec::create(params("NNWeights"));
  ASSERT_TRUE(codec.ok());
  const auto stored_codec = codec::CandidateCodec::binary(params("NNWeights").network);
  auto population = bred(*codec, 6);
  population.candidates[2].elite = true;  // an elite's metrics travel with it
  population.candidates[2].metrics = {{"score", 0.5}};
  auto stored = population_bytes(stored_codec, population,
                                 {.experiment_id = "e",
                                  .checkpoint_id = "e/3/20261204-101010.000-abcdef",
                                  .evaluation_stats = R"({"server_metrics": {}})"},
                                 1);
  ASSERT_TRUE(stored.ok());
  auto read = read_population(*stored);
  ASSERT_TRUE(read.ok()) << read.error().message;
  const auto lean = population_message(*read, false);
  ::population::PopulationResponse whole;
  ASSERT_TRUE(whole.ParseFromString(std::string(stored->view())));
  for (auto& candidate : *whole.mutable_population()) {
    EXPECT_FALSE(candidate.interpretation().empty());
    candidate.clear_interpretation();
  }
  EXPECT_FALSE(lean.population(2).metrics().empty());
  EXPECT_EQ(lean.checkpoint_id(), "e/3/20261204-101010.000-abcdef");
  EXPECT_EQ(lean.SerializeAsString(), whole.SerializeAsString());
  EXPECT_EQ(population_message(*read, true).SerializeAsString(), stored->view());

  const std::string cut(stored->view().substr(0, stored->size() - 7));
  auto corrupt = read_population(SharedBytes::of(cut));
  ASSERT_FALSE(corrupt.ok());
  EXPECT_EQ(corrupt.error().code, Code::kInternal);
}

// REST's JSON of a checkpoint is written from its answer's bytes, in their pieces, as it
// was from the parsed message.
TEST(PopulationBytes, APopulationReadInItsPiecesIsTheSameJsonAsItsMessage) {
  auto codec = codec::CandidateCodec::create(params("NNWeights"));
  ASSERT_TRUE(codec.ok());
  auto population = bred(*codec, 9);
  population.candidates[4].elite = true;
  population.candidates[4].metrics = {{"score", 0.25}};
  auto bytes = population_bytes(*codec, population,
                                {.experiment_id = "e",
                                 .checkpoint_id = "e/3/20261204-101010.000-abcdef",
                                 .evaluation_stats = R"({"server_metrics": {}})"},
                                3);
  ASSERT_TRUE(bytes.ok());
  ASSERT_GT(bytes->pieces.size(), 1U);
  ::population::PopulationResponse message;
  ASSERT_TRUE(message.ParseFromString(bytes->joined()));
  auto read = read_population(*bytes);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(read->candidates.size(), 9U);
  EXPECT_EQ(read->others.population_size(), 0);
  EXPECT_EQ(codec::population_json_text("e", read->others, read->candidates),
            codec::population_json_text("e", message));

  SharedBytes cut = *bytes;
  cut.pieces.back().remove_suffix(3);
  auto corrupt = read_population(cut);
  ASSERT_FALSE(corrupt.ok());
  EXPECT_EQ(corrupt.error().code, Code::kInternal);
}

// A client that sends its population back unchanged is known to, by these digests.
TEST_P(Representations, DigestEveryInterpretationAsWritten) {
  auto codec = codec::CandidateCodec::create(params(GetParam()));
  ASSERT_TRUE(codec.ok());
  const auto population = bred(*codec, 40);
  std::vector<std::uint64_t> digests;
  auto bytes = population_bytes(*codec, population, {.experiment_id = "e"},
                                {.threads = 3, .digests = &digests});
  ASSERT_TRUE(bytes.ok());
  ::population::PopulationResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes->joined()));
  ASSERT_EQ(digests.size(), 40U);
  std::set<std::uint64_t> distinct;
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(digests[i], interpretation_digest(parsed.population(i).interpretation())) << i;
    distinct.insert(digests[i]);
  }
  EXPECT_EQ(distinct.size(), 40U);
  std::string changed = parsed.population(0).interpretation();
  changed.back() ^= 1;
  EXPECT_NE(interpretation_digest(changed), digests[0]);
  // The same digests read out of the bytes afterwards, across their pieces.
  auto read = interpretation_digests(*bytes, 2);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(*read, digests);
}

TEST(PopulationBytes, DigestsAreReadOnlyOutOfAPopulationsBytes) {
  auto codec = codec::CandidateCodec::create(params("NNWeights"));
  ASSERT_TRUE(codec.ok());
  auto bytes = population_bytes(*codec, bred(*codec, 4), {.experiment_id = "e"}, 1);
  ASSERT_TRUE(bytes.ok());
  const std::string whole = bytes->joined();
  for (std::size_t cut : {std::size_t{1}, std::size_t{7}, whole.size() / 2, whole.size() - 1}) {
    const std::string part = whole.substr(0, cut);
    EXPECT_FALSE(interpretation_digests(SharedBytes::of(part), 1).ok()) << "cut at " << cut;
  }
  EXPECT_FALSE(interpretation_digests(SharedBytes::of(std::string("\x0d\x01\x02\x03\x04")), 1).ok())
      << "a fixed32 field";
  auto empty = interpretation_digests(SharedBytes::of(std::string()), 1);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

// A GA generation in the SDK's JSON written with its parents' texts to copy from (as a
// worker does) is the same bytes as written afresh, whether the population it was bred
// from holds every genome or only some (a sparse one is only partly copied from), and
// whether some of those texts were read out of their interpretations beforehand.
TEST_P(Representations, AreTheSameBytesWrittenFromTheParents) {
  auto p = params(GetParam(), 16);
  p.evolution.population_size = 30;
  p.evolution.nb_elites = 3;
  p.evolution.fitness = {{.metric_name = "score", .maximize = true}};
  auto codec = codec::CandidateCodec::create(p);
  ASSERT_TRUE(codec.ok());
  const auto evaluated = evolution::initial_population(p, 5);
  evolution::Scores scores(30, 1);
  for (std::size_t i = 0; i < 30; ++i)
    scores.at(i, 0) = std::cos(double(i) * 1.3);
  auto next = evolution::next_generation(p, evaluated, scores, 5);
  ASSERT_TRUE(next.ok()) << next.error().message;
  const auto& bred = next->population;
  std::vector<std::uint32_t> some{0, 2, 3, 5, 8, 13, 21};
  evolution::Population sparse{
      .candidates = evaluated.candidates,
      .genomes = evolution::Genomes(30, evaluated.genomes.weights_per_genome(), some)};
  for (std::uint32_t i : some)
    std::ranges::copy(evaluated.genomes[i], sparse.genomes[i].begin());
  const PopulationFields fields{.experiment_id = "e", .checkpoint_id = "e/2/x"};
  const std::string expected = as_message(*codec, bred, fields);
  for (const evolution::Population* from :
       {&evaluated, static_cast<const evolution::Population*>(&sparse)}) {
    auto bytes = population_bytes(*codec, bred, fields, {.threads = 3, .bred_from = from});
    ASSERT_TRUE(bytes.ok()) << bytes.error().message;
    EXPECT_EQ(bytes->joined(), expected) << (from == &sparse ? "sparse" : "whole");
  }
  const std::size_t slots_bytes = codec::WeightTexts::slots_bytes(codec->shape().weight_count());
  PopulationTexts given{.slots = core::ByteBlock(30 * slots_bytes),
                        .of = std::vector<std::optional<codec::WeightTexts>>(30)};
  for (std::size_t i = 0; i < 30; i += 2) {  // every other genome's, the rest left to write
    given.of[i] = codec->texts_from(evaluated.genomes[i], codec->encode(evaluated.genomes[i]),
                                    {given.slots.data() + i * slots_bytes, slots_bytes});
  }
  EXPECT_EQ(given.of[0].has_value(), codec->keeps_texts());
  auto bytes = population_bytes(*codec, bred, fields,
                                {.threads = 3, .bred_from = &evaluated, .bred_from_texts = &given});
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  EXPECT_EQ(bytes->joined(), expected) << "with texts given";
}

INSTANTIATE_TEST_SUITE_P(EveryOne, Representations,
                         testing::Values("NNWeightsBinary", "NNWeights", "KerasNN"));

TEST(PopulationBytes, LeaveOutWhatProtobufLeavesOut) {
  auto codec = codec::CandidateCodec::create(params("NNWeightsBinary"));
  ASSERT_TRUE(codec.ok());
  auto population = bred(*codec, 2);
  population.generation = 0;  // proto3 writes no field for zero or empty values
  auto bytes = population_bytes(*codec, population, {.experiment_id = "e"}, 2);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(bytes->joined(), as_message(*codec, population, {.experiment_id = "e"}));
  ::population::PopulationResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes->joined()));
  EXPECT_EQ(parsed.population_size(), 2);
  EXPECT_TRUE(parsed.checkpoint_id().empty());
}

// A large population goes into one huge-page block, which the next one reuses.
TEST(PopulationBytes, ALargePopulationsBlockIsReusedByTheNext) {
  auto codec = codec::CandidateCodec::create(params("NNWeightsBinary"));
  ASSERT_TRUE(codec.ok());
  const auto population = bred(*codec, 40000);  // about 5 MB
  const char* first = nullptr;
  {
    auto bytes = population_bytes(*codec, population, {.experiment_id = "e"}, 2);
    ASSERT_TRUE(bytes.ok());
    ASSERT_GT(bytes->view().size(), core::kHugePageBytes);
    first = bytes->view().data();
  }
  auto again = population_bytes(*codec, population, {.experiment_id = "e"}, 2);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->view().data(), first);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(first) % core::kHugePageBytes, 0U);
}

// With weights enough to outweigh ids and identities (here 1,202 a candidate), the bytes
// are written over the genomes they come from: no second block, the same bytes.
TEST(PopulationBytes, AreWrittenOverTheGenomesWhenTheBlockHoldsThem) {
  auto codec = codec::CandidateCodec::create(params("NNWeightsBinary", 200));
  ASSERT_TRUE(codec.ok());
  auto population = bred(*codec, 2000);  // about 10 MB
  std::vector<std::uint64_t> expected_digests;
  auto expected = population_bytes(*codec, population, {.experiment_id = "e"},
                                   {.threads = 2, .digests = &expected_digests});
  ASSERT_TRUE(expected.ok());
  const std::string kept = expected->joined();
  const char* genomes = population.genomes.block().data();
  std::vector<std::uint64_t> digests;
  auto bytes =
      population_bytes(*codec, population, {.experiment_id = "e", .checkpoint_id = "c"},
                       {.threads = 2, .digests = &digests, .release = &population.genomes});
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(bytes->view().data(), genomes);
  EXPECT_EQ(population.genomes.size(), 0U) << "the genomes are gone";
  auto reference = bred(*codec, 2000);
  EXPECT_EQ(bytes->view(),
            as_message(*codec, reference, {.experiment_id = "e", .checkpoint_id = "c"}));
  EXPECT_EQ(digests, expected_digests);
  EXPECT_NE(kept, bytes->joined());  // the checkpoint id differs; the candidates are the same
}

std::size_t resident_pages(const void* start, std::size_t bytes) {
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> resident((bytes + page - 1) / page);
  EXPECT_EQ(mincore(const_cast<void*>(start), bytes, resident.data()), 0);
  return static_cast<std::size_t>(std::count_if(resident.begin(), resident.end(),
                                                [](unsigned char r) { return (r & 1) != 0; }));
}

// A checkpoint's bytes are given back as they are written only by their last holder: a
// call still sending them reads them whole.
TEST(PopulationBytes, OnlyTheirLastHolderGivesBackBytes) {
  core::keep_large_blocks_up_to(core::kHugePageBytes);  // this block is not kept
  core::ByteBlock block(8 * core::kHugePageBytes);
  std::memset(block.data(), 7, block.size());
  auto stored = SharedBytes::of(std::move(block));
  const std::size_t front = 2 * core::kHugePageBytes;
  {
    const SharedBytes sending = stored;
    stored.give_back_front(front);
    EXPECT_EQ(resident_pages(sending.view().data(), front),
              front / static_cast<std::size_t>(sysconf(_SC_PAGESIZE)));
    EXPECT_EQ(sending.view()[0], 7);
  }
  stored.give_back_front(front);
  EXPECT_EQ(resident_pages(stored.view().data(), front), 0U);
  EXPECT_EQ(stored.view()[front], 7);
  SharedBytes::of(std::string(100, 'x')).give_back_front(100);  // not a block: nothing to do
  core::keep_large_blocks_up_to(core::kDefaultLargestKeptBlock);
}

// Where the bytes do not fit over the genomes (here 26 weights a candidate, fewer bytes
// than its identity), a population and its bytes are still not both held whole: the
// genomes go as they are written, and the bytes are the same.
TEST(PopulationBytes, GiveBackTheGenomesAsTheyAreWritten) {
  auto codec = codec::CandidateCodec::create(params("NNWeightsBinary"));
  ASSERT_TRUE(codec.ok());
  auto population = bred(*codec, 40000);  // genomes of about 5 MB
  auto expected = population_bytes(*codec, population, {.experiment_id = "e"}, 2);
  ASSERT_TRUE(expected.ok());
  const std::string kept = expected->joined();
  const float* genomes = population.genomes[0].data();
  const std::size_t block = static_cast<std::size_t>(
      reinterpret_cast<const char*>(population.genomes[39999].data() + 32) -
      reinterpret_cast<const char*>(genomes));
  const std::size_t pages = resident_pages(genomes, block);
  ASSERT_GT(pages, 1000U);
  auto bytes = population_bytes(*codec, population, {.experiment_id = "e"},
                                {.threads = 3, .release = &population.genomes});
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(bytes->joined(), kept);
  // A page shared by two stretches of 256 genomes stays: here 1 in 8, at W=1,100 1 in 276.
  EXPECT_LT(resident_pages(genomes, block), pages / 6);
}

}  // namespace
}  // namespace esp::population
