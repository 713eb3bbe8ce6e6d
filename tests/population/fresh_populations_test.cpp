// The hand-over of a freshly bred population to the call waiting for its job.
#include "population/fresh_populations.h"

#include <gtest/gtest.h>

namespace esp::population {
namespace {

std::unique_ptr<FreshPopulations::Message> bred(const std::string& checkpoint_id) {
  auto message = std::make_unique<FreshPopulations::Message>();
  message->set_checkpoint_id(checkpoint_id);
  return message;
}

TEST(FreshPopulations, TheWaitingCallTakesWhatTheWorkerOffered) {
  FreshPopulations fresh;
  fresh.await("op_1");
  fresh.offer("op_1", bred("e/2/t"));
  auto taken = fresh.take("op_1");
  ASSERT_NE(taken, nullptr);
  EXPECT_EQ(taken->checkpoint_id(), "e/2/t");
  EXPECT_EQ(fresh.take("op_1"), nullptr);  // the wait is over: nothing is kept
}

TEST(FreshPopulations, NothingIsKeptForAJobNobodyAwaits) {
  FreshPopulations fresh;
  fresh.offer("op_1", bred("e/2/t"));
  fresh.await("op_1");
  EXPECT_EQ(fresh.take("op_1"), nullptr);
}

TEST(FreshPopulations, OfTwoCallsForOneJobOneTakesItAndTheOtherReadsTheCheckpoint) {
  FreshPopulations fresh;
  fresh.await("op_1");
  fresh.await("op_1");
  fresh.offer("op_1", bred("e/2/t"));
  EXPECT_NE(fresh.take("op_1"), nullptr);
  EXPECT_EQ(fresh.take("op_1"), nullptr);
  fresh.offer("op_1", bred("e/2/t"));  // both waits are over: dropped
  fresh.await("op_1");
  EXPECT_EQ(fresh.take("op_1"), nullptr);
}

TEST(FreshPopulations, ACallThatGaveUpLeavesNothingBehind) {
  FreshPopulations fresh;
  fresh.await("op_1");
  EXPECT_EQ(fresh.take("op_1"), nullptr);  // deadline passed before the job ended
  fresh.offer("op_1", bred("e/2/t"));
  fresh.await("op_1");
  EXPECT_EQ(fresh.take("op_1"), nullptr);
}

}  // namespace
}  // namespace esp::population
