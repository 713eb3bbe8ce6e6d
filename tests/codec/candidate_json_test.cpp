// A candidate's identity as the original service writes it: the keys SDK clients read
// and the origin codes of each operator.
#include "codec/candidate_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace esp::codec {
namespace {

using evolution::Crossover;
using evolution::CrossoverKind;
using evolution::MutationType;
using Json = nlohmann::json;

evolution::Identity child(std::vector<std::string> parents, std::optional<Crossover> crossover,
                          MutationType mutation) {
  return {.generation = 2,
          .origin = evolution::Origin::kOffspring,
          .parents = std::move(parents),
          .ancestor_count = 1,
          .crossover = crossover,
          .mutation = mutation};
}

TEST(OriginCode, NamesParentsAndOperatorsAsTheOriginalDoes) {
  EXPECT_EQ(origin_code({}), "(none)");
  EXPECT_EQ(origin_code(child({"1_4", "1_9"}, Crossover{}, MutationType::kGaussianNoisePercentage)),
            "1_4~CUW~1_9#MGNP");
  EXPECT_EQ(origin_code(child({"1_4", "1_9"}, Crossover{.kind = CrossoverKind::kUniformLayer},
                              MutationType::kGaussianNoiseFixed)),
            "1_4~CUL~1_9#MGNF");
  EXPECT_EQ(
      origin_code(child({"1_4", "1_9"}, Crossover{.kind = CrossoverKind::kPoints, .points = 3},
                        MutationType::kUniformReset)),
      "1_4~C3PW~1_9#MUR");
  EXPECT_EQ(origin_code(
                child({"1_4"}, Crossover{.kind = CrossoverKind::kCloneDaddy}, MutationType::kNone)),
            "1_4~CCD~");
}

TEST(IdentityJson, CarriesTheKeysSdkClientsReadAndRoundTrips) {
  evolution::Candidate candidate{
      .id = "2_3",
      .identity = child({"1_4", "1_9"}, Crossover{.kind = CrossoverKind::kPoints, .points = 2},
                        MutationType::kGaussianNoiseFixed)};
  const auto json = Json::parse(identity_json(candidate, "thermostat"));
  EXPECT_EQ(json["unique_id"], "2_3");
  EXPECT_EQ(json["birth_generation"], 2);
  EXPECT_EQ(json["ancestor_ids"], Json::array({"1_4", "1_9"}));
  EXPECT_EQ(json["ancestor_count"], 1);
  EXPECT_EQ(json["experiment_version"], "thermostat");
  EXPECT_TRUE(json.contains("domain_name"));
  EXPECT_EQ(json["origin"], "1_4~C2PW~1_9#MGNF");
  const auto back = identity_from_json(json.dump());
  EXPECT_EQ(back.generation, 2);
  EXPECT_EQ(back.parents, candidate.identity.parents);
  EXPECT_EQ(back.ancestor_count, 1);
  EXPECT_EQ(back.crossover, candidate.identity.crossover);
  EXPECT_EQ(back.mutation, candidate.identity.mutation);
  // A seed.
  const auto seed = Json::parse(identity_json({.id = "1_1"}, "thermostat"));
  EXPECT_EQ(seed["origin"], "(none)");
  EXPECT_EQ(seed["ancestor_count"], 0);
  EXPECT_EQ(seed["ancestor_ids"], Json::array());
}

TEST(IdentityJson, ReadsTheIdentityEspWroteBefore) {
  const auto old = identity_from_json(
      R"({"generation": 3, "origin": "offspring", "parents": ["2_1", "2_5"],
          "crossover": "uniform", "mutation": "gaussian_noise_percentage", "elite": false})");
  EXPECT_EQ(old.generation, 3);
  EXPECT_EQ(old.parents, (std::vector<std::string>{"2_1", "2_5"}));
  EXPECT_EQ(old.crossover, Crossover{});
  EXPECT_EQ(old.mutation, MutationType::kGaussianNoisePercentage);
}

}  // namespace
}  // namespace esp::codec
