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

// What a JSON document of the identity dumps (identity_json writes its text itself, for
// speed): SDK clients and stored checkpoints see the same bytes as before.
TEST(IdentityJson, IsTheTextAJsonDocumentOfItWouldDump) {
  const auto document = [](const evolution::Candidate& candidate, std::string_view experiment) {
    const auto& identity = candidate.identity;
    Json json = {{"unique_id", candidate.id},        {"birth_generation", identity.generation},
                 {"ancestor_ids", identity.parents}, {"ancestor_count", identity.ancestor_count},
                 {"experiment_version", experiment}, {"domain_name", nullptr},
                 {"origin", origin_code(identity)}};
    if (identity.crossover) json["crossover"] = evolution::name_of(*identity.crossover);
    if (identity.mutation) json["mutation"] = evolution::name_of(*identity.mutation);
    return json.dump();
  };
  const std::vector<evolution::Candidate> candidates{
      {.id = "1_1"},
      {.id = "2_3",
       .identity = child({"1_4", "1_9"}, Crossover{.kind = CrossoverKind::kPoints, .points = 2},
                         MutationType::kGaussianNoiseFixed)},
      {.id = "12_345",
       .identity =
           child({"11_7"}, Crossover{.kind = CrossoverKind::kCloneDaddy}, MutationType::kNone)},
      {.id = "3_\"quoted\\\n\t\x01",
       .identity = child({"2_\x1f"}, std::nullopt, MutationType::kUniformReset)},
  };
  for (const auto& candidate : candidates) {
    for (std::string_view experiment : {"thermostat", "odd \"name\"\r"})
      EXPECT_EQ(identity_json(candidate, experiment), document(candidate, experiment))
          << candidate.id;
  }
  evolution::Candidate no_mutation{
      .id = "2_1", .identity = child({"1_1", "1_2"}, Crossover{}, MutationType::kNone)};
  no_mutation.identity.mutation.reset();
  EXPECT_EQ(identity_json(no_mutation, "e"), document(no_mutation, "e"));
}

// Metrics in the shape clients write are read without a document; whatever the text, the
// metrics (or the refusal) are those a document of it gives.
TEST(MetricsFromJson, GiveWhatTheDocumentGivesForAnyText) {
  const auto by_document = [](std::string_view text) -> std::optional<evolution::MetricValues> {
    if (text.empty()) return evolution::MetricValues{};
    const Json json = Json::parse(text, nullptr, false);
    if (json.is_discarded() || !json.is_object()) return std::nullopt;
    evolution::MetricValues metrics;
    for (const auto& [name, value] : json.items()) {
      if (value.is_number()) metrics[name] = value.get<double>();
    }
    return metrics;
  };
  const std::vector<std::string> texts{"",
                                       "{}",
                                       " { } ",
                                       R"({"score": 1.5})",
                                       R"({"score":-0,"cost":2e-3})",
                                       R"({"a": 1, "a": 2})",
                                       R"({"big": 123456789012345678901234567890})",
                                       R"({"exact": 9007199254740993})",
                                       R"({"tiny": 5e-324, "huge": 1.7976931348623157e308})",
                                       R"({"over": 1e400})",
                                       R"({"under": 1e-400})",
                                       R"({"lead": 01})",
                                       R"({"plus": +1})",
                                       R"({"dot": 1.})",
                                       R"({"exp": 1e})",
                                       R"({"nan": NaN})",
                                       R"({"inf": Infinity})",
                                       R"({"hex": 0x10})",
                                       R"({"s": "text", "n": 3})",
                                       R"({"nested": {"x": 1}, "n": 4})",
                                       R"({"esc\u0061ped": 1})",
                                       "{\"caf\xc3\xa9\": 1}",
                                       "{\"bad\xff\": 1}",
                                       R"({"a": 1,})",
                                       R"({"a" 1})",
                                       R"({"a": 1} trailing)",
                                       R"([1, 2])",
                                       "{\"tab\tin name\": 1}",
                                       "{\n\t\"a\" :\r\n 1 \n}",
                                       R"({"a": true, "b": null, "c": [1]})",
                                       R"({"a": -})",
                                       R"({"a": 1e+5, "b": 1E-5, "c": -12.5e2})"};
  for (const auto& text : texts) {
    auto read = metrics_from_json(text);
    auto expected = by_document(text);
    ASSERT_EQ(read.ok(), expected.has_value()) << text;
    if (read.ok()) {
      EXPECT_EQ(*read, *expected) << text;
    } else {
      EXPECT_EQ(read.error().code, Code::kInvalidArgument) << text;
    }
  }
}

TEST(MetricsJsonText, ReadsBackAsTheSameMetrics) {
  const evolution::MetricValues metrics{
      {"score", 1.0}, {"cost", -0.1}, {"tiny", 5e-324}, {"quote\"d", 1e300}};
  auto back = metrics_from_json(metrics_json_text(metrics));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, metrics);
  EXPECT_EQ(metrics_json_text({}), "{}");
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
