// The in-memory copy of the newest population per experiment.
#include "population/recent_populations.h"

#include <gtest/gtest.h>

namespace esp::population {
namespace {

std::shared_ptr<const evolution::Population> population_of(std::size_t weights) {
  return std::make_shared<const evolution::Population>(
      evolution::Population{.generation = 1, .candidates = {}, .genomes = {1, weights}});
}

TEST(RecentPopulations, KeepsOnlyTheNewestOfEachExperiment) {
  RecentPopulations recent(1 << 20, 1 << 20);
  auto first = population_of(16);
  auto second = population_of(16);
  recent.add("alice/e", "checkpoints/1.pb", {first});
  recent.add("bob/e", "checkpoints/b.pb", {population_of(16)});
  EXPECT_EQ(recent.find("checkpoints/1.pb").population, first);
  recent.add("alice/e", "checkpoints/2.pb", {second});
  EXPECT_EQ(recent.find("checkpoints/1.pb").population, nullptr);
  EXPECT_EQ(recent.find("checkpoints/2.pb").population, second);
  EXPECT_NE(recent.find("checkpoints/b.pb").population, nullptr);
}

TEST(RecentPopulations, DropsTheLeastRecentlyUsedBeyondItsCapacity) {
  RecentPopulations recent(3 * 1024 * sizeof(float), 1 << 20);
  recent.add("a", "a.pb", {population_of(1024)});
  recent.add("b", "b.pb", {population_of(1024)});
  recent.add("c", "c.pb", {population_of(1024)});
  ASSERT_NE(recent.find("a.pb").population, nullptr);  // a is now the most recently used
  recent.add("d", "d.pb", {population_of(1024)});
  EXPECT_EQ(recent.find("b.pb").population, nullptr);
  EXPECT_NE(recent.find("a.pb").population, nullptr);
  EXPECT_NE(recent.find("d.pb").population, nullptr);
  recent.add("huge", "huge.pb", {population_of(4 * 1024)});  // larger than the whole capacity
  EXPECT_EQ(recent.find("huge.pb").population, nullptr);
}

}  // namespace
}  // namespace esp::population
