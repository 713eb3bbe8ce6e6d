#include "evolution/network.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <tuple>

#include "evolution/forward.h"
#include "evolution/genomes.h"

namespace esp::evolution {
namespace {

NetworkSpec two_inputs_one_hidden_two_heads() {
  return {.inputs = {{"price", 1, {"float"}}, {"weekday", 2, {"mon", "tue"}}},
          .hidden_layers = {{"h", 4, Activation::kRelu, true}},
          .outputs = {{"action", 2, Activation::kSoftmax, true, {"buy", "sell"}},
                      {"amount", 1, Activation::kLinear, false, {"float"}}}};
}

TEST(NetworkShape, EachInputHasItsOwnFirstLayerBranchThenHeadsKernelThenBias) {
  NetworkShape shape(two_inputs_one_hidden_two_heads());
  ASSERT_EQ(shape.layers().size(), 4U);
  EXPECT_EQ(shape.input_size(), 3U);
  EXPECT_EQ(shape.output_size(), 3U);
  ASSERT_EQ(shape.branches().size(), 2U);
  EXPECT_EQ(shape.first_activation(), Activation::kRelu);
  const auto& price = shape.layers()[0];  // the original's Dense named after its input
  EXPECT_EQ(std::tuple(price.name, price.inputs, price.outputs, price.offset),
            std::tuple(std::string("price"), 1U, 4U, 0U));
  EXPECT_EQ(price.bias_offset(), 4U);
  const auto& weekday = shape.layers()[1];
  EXPECT_EQ(std::tuple(weekday.name, weekday.inputs, weekday.input_begin, weekday.offset),
            std::tuple(std::string("weekday"), 2U, 1U, 8U));
  const auto& action = shape.layers()[2];
  EXPECT_EQ(std::tuple(action.name, action.inputs, action.offset),
            std::tuple(std::string("action"), 4U, 20U));
  EXPECT_EQ(action.weight_count(), 10U);
  const auto& amount = shape.layers()[3];
  EXPECT_EQ(std::tuple(amount.inputs, amount.offset, amount.weight_count()),
            std::tuple(4U, 30U, 4U));
  EXPECT_EQ(shape.weight_count(), 34U);
  EXPECT_EQ(shape.heads().size(), 2U);
  EXPECT_TRUE(shape.hidden_layers().empty());
}

TEST(NetworkShape, FurtherHiddenLayersChainAfterTheBranchesUnderTheirOwnNames) {
  auto spec = two_inputs_one_hidden_two_heads();
  spec.hidden_layers.push_back({"deeper", 3, Activation::kTanh, false});
  NetworkShape shape(spec);
  ASSERT_EQ(shape.hidden_layers().size(), 1U);
  EXPECT_EQ(shape.hidden_layers()[0].name, "deeper");
  EXPECT_EQ(shape.hidden_layers()[0].inputs, 4U);
  EXPECT_EQ(shape.heads()[0].inputs, 3U);
}

TEST(NetworkShape, AFirstHiddenLayerOfNoUnitsMeansTheInputsConcatenated) {
  auto spec = two_inputs_one_hidden_two_heads();
  spec.hidden_layers[0].units = 0;
  NetworkShape shape(spec);
  EXPECT_TRUE(shape.branches().empty());
  EXPECT_EQ(shape.heads()[0].inputs, 3U);
}

TEST(NetworkShape, OutputsReadTheInputsWhenThereIsNoHiddenLayer) {
  NetworkShape shape(NetworkSpec{.inputs = {{"x", 5, {"float"}}},
                                 .outputs = {{"y", 3, Activation::kLinear, true, {"float"}}}});
  ASSERT_EQ(shape.layers().size(), 1U);
  EXPECT_EQ(shape.layers()[0].inputs, 5U);
  EXPECT_EQ(shape.weight_count(), 18U);
}

TEST(Genomes, EachGenomeIsContiguousAndStartsOnA64ByteBoundary) {
  Genomes genomes(5, 19);
  for (std::size_t i = 0; i < genomes.size(); ++i) {
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(genomes[i].data()) % 64, 0U);
    EXPECT_EQ(genomes[i].size(), 19U);
    std::iota(genomes[i].begin(), genomes[i].end(), static_cast<float>(100 * i));
  }
  Genomes copy = genomes;
  for (std::size_t i = 0; i < genomes.size(); ++i) {
    EXPECT_TRUE(std::ranges::equal(copy[i], genomes[i]));
    EXPECT_NE(copy[i].data(), genomes[i].data());
  }
}

TEST(Genomes, LargeBlocksAreAlignedAndRecycledIntact) {
  // 40 MB: large enough for the huge-page block cache.
  for (int round = 0; round < 3; ++round) {
    Genomes genomes(1000, 10001);
    for (std::size_t i = 0; i < genomes.size(); i += 111) {
      ASSERT_EQ(reinterpret_cast<std::uintptr_t>(genomes[i].data()) % 64, 0U);
      std::fill(genomes[i].begin(), genomes[i].end(), float(round));
    }
    EXPECT_EQ(genomes[999].back(), float(round));
    EXPECT_EQ(genomes[999].size(), 10001U);
  }
}

TEST(ForwardPass, ComputesDenseLayersByHand) {
  // 2 inputs -> 2 tanh units -> 1 sigmoid output.
  NetworkShape shape(
      {{.inputs = 2, .outputs = 2, .use_bias = true, .activation = Activation::kTanh},
       {.inputs = 2, .outputs = 1, .use_bias = true, .activation = Activation::kSigmoid}},
      1);
  // Kernel row-major (input i, unit j), then biases.
  std::vector<float> genome = {0.5F, -1.0F,  // from input 0
                               2.0F, 0.25F,  // from input 1
                               0.1F, -0.2F,  // hidden biases
                               1.5F, -0.5F,  // output kernel
                               0.3F};        // output bias
  std::vector<float> context = {1.0F, -2.0F};
  float h0 = std::tanh(1.0F * 0.5F + -2.0F * 2.0F + 0.1F);
  float h1 = std::tanh(1.0F * -1.0F + -2.0F * 0.25F - 0.2F);
  float expected = 1.0F / (1.0F + std::exp(-(h0 * 1.5F + h1 * -0.5F + 0.3F)));
  ForwardPass pass(shape);
  auto actions = pass.run(genome, context);
  ASSERT_EQ(actions.size(), 1U);
  EXPECT_NEAR(actions[0], expected, 1e-6);
}

TEST(ForwardPass, SoftmaxHeadsSumToOneAndLinearHeadsAreRaw) {
  NetworkShape shape(two_inputs_one_hidden_two_heads());
  std::vector<float> genome(shape.weight_count());
  for (std::size_t i = 0; i < genome.size(); ++i)
    genome[i] = std::sin(static_cast<float>(i));
  ForwardPass pass(shape);
  auto actions = pass.run(genome, std::vector<float>{0.7F, 1.0F, 0.0F});
  ASSERT_EQ(actions.size(), 3U);
  EXPECT_NEAR(actions[0] + actions[1], 1.0F, 1e-6);
  EXPECT_GT(actions[0], 0.0F);
  EXPECT_GT(actions[1], 0.0F);
  // The linear head without bias is the dot product of the hidden units and its kernel;
  // the hidden units are relu(price branch + weekday branch), each with its own bias.
  const std::vector<float> x = {0.7F, 1.0F, 0.0F};
  std::vector<float> hidden(4);
  for (std::size_t j = 0; j < 4; ++j) {
    float sum = x[0] * genome[0 + j] + genome[4 + j];                      // price
    sum += x[1] * genome[8 + j] + x[2] * genome[12 + j] + genome[16 + j];  // weekday
    hidden[j] = std::max(sum, 0.0F);
  }
  float amount = 0;
  for (std::size_t j = 0; j < 4; ++j)
    amount += hidden[j] * genome[30 + j];
  EXPECT_NEAR(actions[2], amount, 1e-5);
}

TEST(ForwardPass, SoftmaxStaysFiniteForLargeActivations) {
  NetworkShape shape(
      {{.inputs = 1, .outputs = 2, .use_bias = false, .activation = Activation::kSoftmax}}, 0);
  ForwardPass pass(shape);
  auto actions = pass.run(std::vector<float>{1000.0F, -1000.0F}, std::vector<float>{1.0F});
  EXPECT_FLOAT_EQ(actions[0], 1.0F);
  EXPECT_FLOAT_EQ(actions[1], 0.0F);
}

TEST(ForwardPass, RejectsMismatchedSizes) {
  ForwardPass pass{NetworkShape(two_inputs_one_hidden_two_heads())};
  std::vector<float> genome(33);
  EXPECT_THROW(pass.run(genome, std::vector<float>(3)), std::invalid_argument);
  genome.resize(34);
  EXPECT_THROW(pass.run(genome, std::vector<float>(2)), std::invalid_argument);
}

}  // namespace
}  // namespace esp::evolution
