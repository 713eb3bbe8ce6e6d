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

}  // namespace
}  // namespace esp::codec
