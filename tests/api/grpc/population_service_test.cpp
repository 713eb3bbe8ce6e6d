// The answer as gRPC sends it: a population's bytes in pieces (each thread's run of
// candidates, where it was written) go out as one message, the pieces in order.
#include "api/grpc/population_service.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace esp::grpcapi {
namespace {

std::string bytes_of(const grpc::ByteBuffer& message) {
  std::vector<grpc::Slice> slices;
  EXPECT_TRUE(message.Dump(&slices).ok());
  std::string bytes;
  for (const auto& slice : slices)
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  return bytes;
}

TEST(PopulationAnswer, IsItsPiecesInOrderWithoutCopyingThem) {
  auto block = std::make_shared<const std::string>("first|second|third");
  const std::string_view all = *block;
  population::SharedBytes bytes{.owner = block,
                                .pieces = {all.substr(0, 6), all.substr(6, 7), {}, all.substr(13)}};
  std::weak_ptr<const void> watched = block;
  block.reset();
  {
    const grpc::ByteBuffer message = message_of(std::move(bytes));
    EXPECT_EQ(bytes_of(message), "first|second|third");
    std::vector<grpc::Slice> slices;
    ASSERT_TRUE(message.Dump(&slices).ok());
    ASSERT_EQ(slices.size(), 3U);  // the empty piece is left out
    EXPECT_EQ(reinterpret_cast<const char*>(slices[0].begin()), all.data());
    EXPECT_FALSE(watched.expired()) << "the message holds the bytes it points into";
  }
  EXPECT_TRUE(watched.expired()) << "and lets them go with its last slice";
}

TEST(PopulationAnswer, OfNoBytesIsAnEmptyMessage) {
  const grpc::ByteBuffer message = message_of(population::SharedBytes{});
  EXPECT_TRUE(message.Valid());
  EXPECT_EQ(message.Length(), 0U);
}

}  // namespace
}  // namespace esp::grpcapi
