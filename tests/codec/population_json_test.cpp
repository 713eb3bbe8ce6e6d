// The population document written straight into text is the document's own dump, byte
// for byte, including what a hostile or old record stored.
#include "codec/population_json.h"

#include <gtest/gtest.h>

namespace esp::codec {
namespace {

::population::PopulationResponse population() {
  ::population::PopulationResponse message;
  message.set_generation_count(3);
  message.set_checkpoint_id("e/3/20261201-000000.000-abcdef");
  message.set_evaluation_stats(R"({"server_metrics":{"2_1":{"score":0.25,"is_elite":true}}})");
  auto* elite = message.add_population();
  elite->set_id("2_1");
  elite->set_interpretation(std::string("\x89HDF\r\n\x1a\n\0\xff", 10));
  elite->set_identity(R"({"unique_id":"2_1","origin":"1_4~CUW~1_9#MGNP"})");
  elite->set_metrics(R"({"score":0.25})");
  auto* child = message.add_population();
  child->set_id("3_2");
  child->set_interpretation("{\"model_weights\":{}}");
  child->set_identity("not JSON \xff\xfe");  // stored before bounds: kept as text
  return message;
}

TEST(PopulationJsonText, IsTheDocumentsDumpByteForByte) {
  const auto message = population();
  const auto expected =
      population_json("e", message).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  EXPECT_EQ(population_json_text("e", message), expected);
  ::population::PopulationResponse empty;
  EXPECT_EQ(population_json_text("e", empty), population_json("e", empty).dump());
}

std::vector<CandidateView> views_of(const ::population::PopulationResponse& message) {
  std::vector<CandidateView> views;
  for (const auto& candidate : message.population())
    views.push_back({.id = candidate.id(),
                     .interpretation = candidate.interpretation(),
                     .metrics = candidate.metrics(),
                     .identity = candidate.identity()});
  return views;
}

std::string joined(const std::vector<std::string>& pieces) {
  std::string all;
  for (const auto& piece : pieces)
    all += piece;
  return all;
}

std::vector<std::string> pieces_of(const ::population::PopulationResponse& message,
                                   unsigned threads, const Interpretation& interpretation = {}) {
  auto pieces = population_json_pieces("e", message, views_of(message), threads, interpretation);
  EXPECT_TRUE(pieces.ok()) << pieces.error().message;
  return pieces.ok() ? std::move(*pieces) : std::vector<std::string>{};
}

::population::PopulationResponse large_population() {
  auto message = population();
  // Enough text for several runs of 1 MiB: threads only split documents that large.
  for (int i = 0; i < 40; ++i) {
    auto* candidate = message.add_population();
    candidate->set_id("3_" + std::to_string(i + 3));
    candidate->set_interpretation(std::string(100'000 + i, static_cast<char>(i)));
    candidate->set_identity(R"({"unique_id":"3_)" + std::to_string(i + 3) + R"("})");
    if (i % 2 == 0) candidate->set_metrics(R"({"score":)" + std::to_string(i) + "}");
  }
  return message;
}

// REST sends these pieces one after another: together they must be the document.
TEST(PopulationJsonPieces, AreTheDocumentInOrderWhateverTheThreads) {
  const auto message = large_population();
  const std::string expected = population_json_text("e", message);
  for (unsigned threads : {1U, 2U, 3U, 7U, 64U}) {
    const auto pieces = pieces_of(message, threads);
    EXPECT_TRUE(joined(pieces) == expected) << threads << " threads";  // 5 MB: not printed
    EXPECT_LE(pieces.size(), threads + 2);
  }
  // Over 5 MB of base64: more than one run when threads are given.
  EXPECT_GT(pieces_of(message, 4).size(), 3U);
}

TEST(PopulationJsonPieces, OfASmallOrEmptyPopulationAreOneRun) {
  const auto message = population();
  EXPECT_EQ(pieces_of(message, 16).size(), 3U);
  EXPECT_EQ(joined(pieces_of(message, 16)), population_json_text("e", message));
  ::population::PopulationResponse empty;
  EXPECT_EQ(joined(pieces_of(empty, 16)), population_json("e", empty).dump());
}

// A checkpoint stored in esp's binary layout is written in the experiment's
// representation, each candidate through `interpretation`, as its recoded message would be.
TEST(PopulationJsonPieces, CarryEachInterpretationAsWrittenThroughTheGivenOne) {
  const auto stored = large_population();
  auto recoded = stored;
  for (auto& candidate : *recoded.mutable_population())
    candidate.set_interpretation("[" + std::to_string(candidate.interpretation().size()) + "]");
  const Interpretation sizes{
      .write = [](const CandidateView& candidate, std::string& buffer) -> Result<std::string_view> {
        buffer = "[" + std::to_string(candidate.interpretation.size()) + "]";
        return std::string_view(buffer);
      },
      .largest = 16};
  for (unsigned threads : {1U, 5U})
    EXPECT_EQ(joined(pieces_of(stored, threads, sizes)), population_json_text("e", recoded));
}

TEST(PopulationJsonPieces, AreTheFirstErrorOfAnInterpretationThatDoesNotRead) {
  const auto stored = large_population();
  const Interpretation failing{
      .write = [](const CandidateView& candidate, std::string&) -> Result<std::string_view> {
        if (candidate.id == "3_20") return Error{Code::kInternal, "candidate 3_20 is corrupt"};
        return candidate.interpretation;
      },
      .largest = 100'039};
  auto pieces = population_json_pieces("e", stored, views_of(stored), 4, failing);
  ASSERT_FALSE(pieces.ok());
  EXPECT_EQ(pieces.error().code, Code::kInternal);
  EXPECT_EQ(pieces.error().message, "candidate 3_20 is corrupt");
}

}  // namespace
}  // namespace esp::codec
