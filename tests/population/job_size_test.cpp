// The memory a generation job will need, estimated before it is queued.
#include "population/job_size.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "codec/candidate_codec.h"

namespace esp::population {
namespace {

evolution::ExperimentParams params_of(int candidates, std::size_t inputs, std::size_t outputs,
                                      const std::string& representation = "NNWeightsBinary") {
  auto params = evolution::parse_params(
      fmt::format(R"({{"network": {{"inputs": [{{"name": "x", "size": {}, "values": ["float"]}}],
                                   "outputs": [{{"name": "y", "size": {}, "activation": "tanh",
                                                 "use_bias": true}}]}},
                      "evolution": {{"population_size": {}, "nb_elites": 1,
                                     "fitness": [{{"metric_name": "score", "maximize": true}}]}},
                      "LEAF": {{"representation": "{}"}}}})",
                  inputs, outputs, candidates, representation));
  EXPECT_TRUE(params.ok()) << params.error().message;
  return *params;
}

TEST(JobSize, CountsBothGenerationsGenomesAndTheMessagesItHolds) {
  const auto size = estimate_job_size(params_of(100, 9, 1));       // 10 weights each
  EXPECT_EQ(size.message_bytes, 100u * (12 + 12 + 10 * 4 + 512));  // header, weights, framing
  // Both generations' genomes; the request as received and the population's bytes, with
  // room to spare.
  EXPECT_EQ(size.peak_bytes, 2u * 100 * 10 * 4 + 4 * size.message_bytes);
}

// A GA population in the SDK's JSON is written copying its parents' weight texts, 17
// bytes a weight (a slot and a length) for each possible parent (the best 20% by default):
// counted in its peak.
TEST(JobSize, JsonCountsTheParentsWeightTexts) {
  const auto json = estimate_job_size(params_of(100, 9, 1, "NNWeights"));
  const auto h5 = estimate_job_size(params_of(100, 9, 1, "KerasNN"));
  const std::uint64_t genomes = 100 * 10 * 4;
  const std::uint64_t stored = 100u * (12 + 12 + 10 * 4 + 512);
  EXPECT_EQ(json.peak_bytes, 2 * genomes + 5 * json.message_bytes + 2 * stored + 20 * 10 * 17);
  EXPECT_EQ(h5.peak_bytes, 2 * genomes + 5 * h5.message_bytes + 2 * stored);  // nothing to copy
}

TEST(JobSize, CmaEsRestartsAreSizedForTheLastAndLargestPopulation) {
  auto params = params_of(100, 9, 1);
  params.evolution.algorithm = evolution::Algorithm::kCmaEs;
  const auto one_run = estimate_job_size(params);
  params.evolution.cma_restarts = 3;  // 100, 200, 400, then 800 candidates
  const auto restarted = estimate_job_size(params);
  EXPECT_EQ(restarted.message_bytes, 8 * one_run.message_bytes);
  EXPECT_EQ(restarted.peak_bytes, 8 * one_run.peak_bytes);
  auto refused = check_job_size(params, one_run.peak_bytes * 4);
  ASSERT_TRUE(refused.has_value());
  EXPECT_NE(refused->message.find("800 candidates"), std::string::npos) << refused->message;
}

TEST(JobSize, EachRepresentationsEstimateCoversWhatItsCodecWrites) {
  for (const char* representation : {"NNWeights", "KerasNN", "NNWeightsBinary"}) {
    const auto params = params_of(2, 40, 7, representation);
    auto codec = codec::CandidateCodec::create(params);
    ASSERT_TRUE(codec.ok());
    std::vector<float> genome(codec->shape().weight_count());
    for (std::size_t i = 0; i < genome.size(); ++i)
      genome[i] = -0.123456789F * static_cast<float>(i % 17 + 1);  // long shortest forms
    const auto written = codec->encode(genome).size();
    const auto estimated = estimate_job_size(params).message_bytes / 2 - 512;
    EXPECT_GE(estimated, written) << representation;
    EXPECT_LE(estimated, 2 * written) << representation;
  }
}

TEST(JobSize, ThePoisonPillOfTheIssueIsRefusedNamingBothSizes) {
  // 1000 candidates of 1000 -> 998: under the weight caps, about 4 GB per generation.
  const auto params = params_of(1000, 1000, 998);
  auto refused = check_job_size(params, std::uint64_t{3} << 30);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->code, Code::kResourceExhausted);
  EXPECT_NE(refused->message.find("needs about"), std::string::npos) << refused->message;
  EXPECT_NE(refused->message.find("over this server's 3.0 GiB"), std::string::npos)
      << refused->message;
  EXPECT_FALSE(check_job_size(params_of(100, 9, 1), std::uint64_t{3} << 30).has_value());
}

TEST(JobSize, APopulationPastProtobufsTwoGibibytesIsRefusedWhateverTheMemory) {
  auto refused = check_job_size(params_of(1000, 1000, 998), std::uint64_t{1} << 50);
  ASSERT_TRUE(refused.has_value());
  EXPECT_NE(refused->message.find("2 GiB"), std::string::npos) << refused->message;
}

}  // namespace
}  // namespace esp::population
