// The hand-over of a freshly bred population to the calls waiting for its job.
#include "population/fresh_populations.h"

#include <gtest/gtest.h>

namespace esp::population {
namespace {

FreshPopulation bred(const std::string& checkpoint_id) {
  return {.checkpoint_id = checkpoint_id,
          .bytes = SharedBytes::of("population of " + checkpoint_id)};
}

TEST(FreshPopulations, TheWaitingCallTakesWhatTheWorkerOffered) {
  FreshPopulations fresh;
  fresh.await("op_1");
  fresh.offer("op_1", bred("e/2/t"));
  auto taken = fresh.take("op_1");
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(taken->checkpoint_id, "e/2/t");
  EXPECT_EQ(taken->bytes.joined(), "population of e/2/t");
  EXPECT_FALSE(fresh.take("op_1").has_value());  // the wait is over: nothing is kept
}

TEST(FreshPopulations, NothingIsKeptForAJobNobodyAwaits) {
  FreshPopulations fresh;
  fresh.offer("op_1", bred("e/2/t"));
  fresh.await("op_1");
  EXPECT_FALSE(fresh.take("op_1").has_value());
}

TEST(FreshPopulations, TwoCallsForOneJobShareTheSameBytes) {
  FreshPopulations fresh;
  fresh.await("op_1");
  fresh.await("op_1");  // a retry of the same request
  fresh.offer("op_1", bred("e/2/t"));
  auto first = fresh.take("op_1");
  auto second = fresh.take("op_1");
  ASSERT_TRUE(first.has_value() && second.has_value());
  EXPECT_EQ(first->bytes.view().data(), second->bytes.view().data());  // one copy, shared
  fresh.offer("op_1", bred("e/2/t"));  // both waits are over: dropped
  fresh.await("op_1");
  EXPECT_FALSE(fresh.take("op_1").has_value());
}

TEST(FreshPopulations, ACallThatGaveUpLeavesNothingBehind) {
  FreshPopulations fresh;
  fresh.await("op_1");
  EXPECT_FALSE(fresh.take("op_1").has_value());  // deadline passed before the job ended
  fresh.offer("op_1", bred("e/2/t"));
  fresh.await("op_1");
  EXPECT_FALSE(fresh.take("op_1").has_value());
}

// A call is told when its population arrives. It answers at once only with one handed
// over before its checkpoint was stored; a small one waits for its job to be recorded.
TEST(FreshPopulations, TheCallIsToldAndAnswersEarlyOnlyBeforeStoring) {
  FreshPopulations fresh;
  int told = 0;
  fresh.await("op_1", [&told] { ++told; });
  EXPECT_FALSE(fresh.answerable("op_1"));
  fresh.offer("op_1", bred("e/2/t"));
  EXPECT_EQ(told, 1);
  EXPECT_FALSE(fresh.answerable("op_1"));  // stored: the job's record comes first
  auto early = bred("e/3/t");
  early.before_storing = true;
  fresh.offer("op_1", early);
  EXPECT_TRUE(fresh.answerable("op_1"));
  EXPECT_EQ(told, 1);  // told once
  EXPECT_EQ(fresh.take("op_1")->checkpoint_id, "e/3/t");
  EXPECT_FALSE(fresh.answerable("op_1"));
}

// A request's interpretations, which the call lets go of when it ends, whether or not a
// worker here took them: one that ran on another replica is never kept.
class Interpretations : public SentInterpretations {
 public:
  std::optional<std::string_view> read(std::string_view, std::string&) const override {
    return std::nullopt;
  }
};

TEST(FreshPopulations, AnInputIsTakenOnceAndForgottenWhenItsCallEnds) {
  FreshPopulations fresh;
  auto sent = std::make_shared<const Interpretations>();
  fresh.offer_input("inputs/a",
                    {.metrics = std::make_unique<EvaluatedPopulation>(), .interpretations = sent});
  fresh.offer_input("inputs/b",
                    {.metrics = std::make_unique<EvaluatedPopulation>(), .interpretations = sent});
  EXPECT_EQ(sent.use_count(), 3);
  auto taken = fresh.take_input("inputs/a");
  EXPECT_EQ(taken.interpretations, sent);
  EXPECT_EQ(fresh.take_input("inputs/a").metrics, nullptr);
  fresh.forget_input("inputs/b");
  EXPECT_EQ(fresh.take_input("inputs/b").metrics, nullptr);
  taken = {};
  EXPECT_EQ(sent.use_count(), 1);
}

}  // namespace
}  // namespace esp::population
