#include "codec/interpretation.h"

#include <gtest/gtest.h>

namespace esp::codec {
namespace {

evolution::NetworkShape shape(std::size_t hidden_units) {
  return evolution::NetworkShape(evolution::NetworkSpec{
      .inputs = {{"x", 3, {"float"}}},
      .hidden_layers = {{"h", hidden_units, evolution::Activation::kTanh, true}},
      .outputs = {{"y", 2, evolution::Activation::kSoftmax, true, {"a", "b"}}}});
}

TEST(Interpretation, RoundTripsWeightsBitForBit) {
  auto network = shape(4);
  std::vector<float> genome(network.weight_count());
  for (std::size_t i = 0; i < genome.size(); ++i)
    genome[i] = static_cast<float>(i) * -0.37F + 1e-20F;
  auto bytes = encode_weights(network, genome);
  EXPECT_EQ(bytes.substr(0, 4), "ESPW");
  EXPECT_EQ(bytes.size(), 12 + 2 * 12 + genome.size() * 4);
  auto decoded = decode_weights(network, bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(*decoded, genome);
}

TEST(Interpretation, RefusesOtherNetworksAndTruncatedBytes) {
  auto network = shape(4);
  auto bytes = encode_weights(network, std::vector<float>(network.weight_count(), 1.0F));
  EXPECT_FALSE(decode_weights(shape(5), bytes).ok());
  EXPECT_FALSE(decode_weights(network, bytes.substr(0, bytes.size() - 1)).ok());
  EXPECT_FALSE(decode_weights(network, "").ok());
  EXPECT_FALSE(decode_weights(network, "KERASNN-model-bytes").ok());
}

}  // namespace
}  // namespace esp::codec
