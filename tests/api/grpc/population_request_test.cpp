// A NextPopulation request read from its wire bytes for ids and metrics alone: the same
// answer as protobuf's own parser for every message it accepts, a clear refusal for every
// one it refuses (truncated, corrupted, not UTF-8), wherever the bytes are split.
#include "api/grpc/population_request.h"

#include <grpcpp/support/byte_buffer.h>
#include <gtest/gtest.h>

#include <random>

#include "codec/candidate_json.h"
#include "population_structs.pb.h"

namespace esp::grpcapi {
namespace {

namespace pb = ::population;

pb::PopulationRequest evaluated_request() {
  pb::PopulationRequest request;
  request.set_version("v1");
  request.set_experiment_id("thermostat");
  request.set_config(R"({"evolution": {"population_size": 3}})");
  auto* evaluated = request.mutable_evaluated_population_response();
  evaluated->set_checkpoint_id("thermostat/1/20261202-101010.000-abcdef");
  evaluated->set_generation_count(1);
  evaluated->set_evaluation_stats("{}");
  for (int i = 1; i <= 3; ++i) {
    auto* candidate = evaluated->add_population();
    candidate->set_id("1_" + std::to_string(i));
    candidate->set_interpretation(std::string(4000 + i, static_cast<char>(i)));
    candidate->set_identity(R"({"unique_id": "1_)" + std::to_string(i) + R"("})");
    candidate->set_metrics(R"({"score": )" + std::to_string(i * 1.5) +
                           ", \"cost\": " + std::to_string(-i) + "}");
  }
  return request;
}

// What NextPopulation read from the generated message before (the reference).
Result<population::GenerationRequest> from_message(std::string_view bytes) {
  pb::PopulationRequest request;
  if (!request.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return Error{Code::kInvalidArgument, "protobuf refused it"};
  if (request.config().empty())
    return Error{Code::kInvalidArgument, "No experiment params supplied"};
  population::GenerationRequest generation{.experiment_id = request.experiment_id(),
                                           .params_json = request.config()};
  if (!request.has_evaluated_population_response()) return generation;
  auto& scores = generation.evaluated.emplace();
  scores.checkpoint_id = request.evaluated_population_response().checkpoint_id();
  for (const auto& candidate : request.evaluated_population_response().population()) {
    auto metrics = codec::metrics_from_json(candidate.metrics());
    if (!metrics.ok()) return Error{Code::kInvalidArgument, "candidate " + candidate.id()};
    scores.scored.push_back({.id = candidate.id(), .metrics = std::move(*metrics)});
  }
  return generation;
}

void expect_same(const Result<population::GenerationRequest>& read,
                 const Result<population::GenerationRequest>& reference, const std::string& what) {
  ASSERT_EQ(read.ok(), reference.ok())
      << what << ": " << (read.ok() ? reference.error().message : read.error().message);
  if (!read.ok()) {
    EXPECT_EQ(read.error().code, Code::kInvalidArgument) << what;
    return;
  }
  EXPECT_EQ(read->experiment_id, reference->experiment_id) << what;
  EXPECT_EQ(read->params_json, reference->params_json) << what;
  ASSERT_EQ(read->evaluated.has_value(), reference->evaluated.has_value()) << what;
  if (!read->evaluated) return;
  EXPECT_EQ(read->evaluated->checkpoint_id, reference->evaluated->checkpoint_id) << what;
  EXPECT_EQ(read->evaluated->scored, reference->evaluated->scored) << what;
}

TEST(PopulationRequest, ReadsTheExperimentParamsAndEveryCandidatesMetrics) {
  const std::string bytes = evaluated_request().SerializeAsString();
  auto read = read_generation_request(bytes);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(read->experiment_id, "thermostat");
  EXPECT_EQ(read->params_json, R"({"evolution": {"population_size": 3}})");
  ASSERT_TRUE(read->evaluated.has_value());
  EXPECT_EQ(read->evaluated->checkpoint_id, "thermostat/1/20261202-101010.000-abcdef");
  const auto& scored = read->evaluated->scored;  // in the order sent
  ASSERT_EQ(scored.size(), 3U);
  EXPECT_EQ(scored[1].id, "1_2");
  EXPECT_DOUBLE_EQ(scored[1].metrics.at("score"), 3.0);
  EXPECT_EQ(scored[2].id, "1_3");
  EXPECT_DOUBLE_EQ(scored[2].metrics.at("cost"), -3.0);
  expect_same(read, from_message(bytes), "whole");
}

TEST(PopulationRequest, ASeedRequestHasNoEvaluatedPopulation) {
  pb::PopulationRequest request;
  request.set_experiment_id("e");
  request.set_config("{}");
  auto read = read_generation_request(request.SerializeAsString());
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_FALSE(read->evaluated.has_value());
}

TEST(PopulationRequest, AgreesWithProtobufOnEveryTruncation) {
  const std::string bytes = evaluated_request().SerializeAsString();
  for (std::size_t size = 0; size < bytes.size(); ++size) {
    const std::string_view prefix(bytes.data(), size);
    std::vector<InterpretationSpan> spans;
    expect_same(read_generation_request(prefix), from_message(prefix),
                "prefix of " + std::to_string(size));
    expect_same(read_generation_request(prefix, &spans), from_message(prefix),
                "prefix of " + std::to_string(size) + " with spans");
  }
}

TEST(PopulationRequest, AgreesWithProtobufOnCorruptedBytes) {
  const std::string bytes = evaluated_request().SerializeAsString();
  std::mt19937 random(7);
  for (int trial = 0; trial < 3000; ++trial) {
    std::string corrupted = bytes;
    for (int flips = 1 + trial % 3; flips > 0; --flips) {
      // Mostly in the small fields around the large interpretations, where tags are.
      const std::size_t at = random() % (trial % 2 == 0 ? corrupted.size() : 64);
      corrupted[at] = static_cast<char>(random());
    }
    std::vector<InterpretationSpan> spans;
    expect_same(read_generation_request(corrupted), from_message(corrupted),
                "trial " + std::to_string(trial));
    expect_same(read_generation_request(corrupted, &spans), from_message(corrupted),
                "trial " + std::to_string(trial) + " with spans");
  }
}

TEST(PopulationRequest, RefusesAStringFieldThatIsNotUtf8AsProtobufDoes) {
  auto request = evaluated_request();
  request.mutable_evaluated_population_response()->mutable_population(1)->set_id("1_\xff");
  const std::string bytes = request.SerializePartialAsString();
  auto read = read_generation_request(bytes);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code, Code::kInvalidArgument);
  expect_same(read, from_message(bytes), "not UTF-8");
}

TEST(PopulationRequest, SaysWhichCandidatesMetricsAreNotAnObject) {
  auto request = evaluated_request();
  request.mutable_evaluated_population_response()->mutable_population(2)->set_metrics("[1]");
  auto read = read_generation_request(request.SerializeAsString());
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code, Code::kInvalidArgument);
  EXPECT_NE(read.error().message.find("candidate 1_3"), std::string::npos) << read.error().message;
}

// A big population's metrics are read side by side: all of them, in the order sent, and
// of two bad ones the first sent is the answer, wherever each was read.
TEST(PopulationRequest, ManyCandidatesMetricsAreReadInOrderAndTheFirstBadOneAnswers) {
  pb::PopulationRequest request = evaluated_request();
  auto* population = request.mutable_evaluated_population_response();
  population->clear_population();
  for (int i = 1; i <= 20000; ++i) {
    auto* candidate = population->add_population();
    candidate->set_id("1_" + std::to_string(i));
    candidate->set_metrics(R"({"score": )" + std::to_string(i) + "}");
  }
  const std::string bytes = request.SerializeAsString();
  auto read = read_generation_request(bytes);
  ASSERT_TRUE(read.ok()) << read.error().message;
  ASSERT_EQ(read->evaluated->scored.size(), 20000U);
  EXPECT_EQ(read->evaluated->scored[12345].id, "1_12346");
  EXPECT_DOUBLE_EQ(read->evaluated->scored[12345].metrics.at("score"), 12346.0);
  expect_same(read, from_message(bytes), "20,000 candidates");

  population->mutable_population(16999)->set_metrics("[1]");
  population->mutable_population(2999)->set_metrics("{\"score\": }");
  auto bad = read_generation_request(request.SerializeAsString());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Code::kInvalidArgument);
  EXPECT_TRUE(bad.error().message.starts_with("candidate 1_3000: ")) << bad.error().message;
}

TEST(PopulationRequest, EveryCallCarriesItsParams) {
  auto request = evaluated_request();
  request.clear_config();
  auto read = read_generation_request(request.SerializeAsString());
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().message, "No experiment params supplied");
}

TEST(PopulationRequest, ReadsAcrossTheSlicesGrpcReceivedItIn) {
  const std::string bytes = evaluated_request().SerializeAsString();
  const auto whole = read_generation_request(bytes);
  for (std::size_t first : {std::size_t{1}, std::size_t{37}, bytes.size() / 2}) {
    const std::size_t second = first + (bytes.size() - first) / 3;
    std::vector<grpc::Slice> slices{grpc::Slice(bytes.data(), first),
                                    grpc::Slice(bytes.data() + first, second - first),
                                    grpc::Slice(bytes.data() + second, bytes.size() - second)};
    const grpc::ByteBuffer buffer(slices.data(), slices.size());
    expect_same(read_generation_request(buffer), whole, "split at " + std::to_string(first));
  }
}

// The interpretations stay in gRPC's slices, found by where the reader saw them: each
// candidate's bytes come back whole, however the request was split, and the request
// itself is taken over (cleared) so it goes with the last reference.
TEST(PopulationRequest, KeepsEachInterpretationWhereTheSlicesHoldIt) {
  auto request = evaluated_request();
  auto* population = request.mutable_evaluated_population_response();
  population->mutable_population(1)->clear_interpretation();  // none sent for 1_2
  const std::string bytes = request.SerializeAsString();
  for (std::size_t piece : {std::size_t{7}, std::size_t{1000}, bytes.size()}) {
    std::vector<grpc::Slice> slices;
    for (std::size_t at = 0; at < bytes.size(); at += piece)
      slices.emplace_back(bytes.data() + at, std::min(piece, bytes.size() - at));
    grpc::ByteBuffer buffer(slices.data(), slices.size());
    std::vector<InterpretationSpan> spans;
    ASSERT_TRUE(read_generation_request(buffer, &spans).ok());
    ASSERT_EQ(spans.size(), 2U);
    auto sent = sent_interpretations(buffer, std::move(spans));
    EXPECT_EQ(buffer.Length(), 0U) << "the call no longer holds the request";
    std::string scratch;
    for (int i : {0, 2}) {
      const auto interpretation = sent->read(population->population(i).id(), scratch);
      ASSERT_TRUE(interpretation);
      EXPECT_EQ(*interpretation, population->population(i).interpretation())
          << i << " in " << piece;
      // A view of the request where one slice holds it; copied where it spans several.
      const std::size_t at = bytes.find(population->population(i).interpretation());
      const bool spans = at / piece != (at + interpretation->size() - 1) / piece;
      EXPECT_EQ(interpretation->data() == scratch.data(), spans) << i << " in " << piece;
    }
    EXPECT_FALSE(sent->read("1_2", scratch));
    EXPECT_FALSE(sent->read("9_9", scratch));
  }
}

TEST(PopulationRequest, NamesItsExperimentForTheLogWithoutReadingTheRest) {
  const std::string bytes = evaluated_request().SerializeAsString();
  grpc::Slice slice(bytes.data(), bytes.size());
  EXPECT_EQ(experiment_named(grpc::ByteBuffer(&slice, 1)), "thermostat");
  grpc::Slice garbage("\x00\x00\x00", 3);
  EXPECT_EQ(experiment_named(grpc::ByteBuffer(&garbage, 1)), "");
  EXPECT_EQ(experiment_named(grpc::ByteBuffer()), "");
}

}  // namespace
}  // namespace esp::grpcapi
