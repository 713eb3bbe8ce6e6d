#include "observability/metrics.h"

#include <gtest/gtest.h>

#include <thread>

namespace esp::metrics {
namespace {

TEST(Metrics, CountersRenderPerLabelSeriesInTextFormat) {
  Registry registry;
  auto& requests = registry.counter("http_requests_total", "Requests.", {"route", "status"});
  requests.with({"/a", "200"}).inc();
  requests.with({"/a", "200"}).inc(2);
  requests.with({"/b", "404"}).inc();
  const std::string text = registry.render();
  EXPECT_NE(text.find("# TYPE http_requests_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("http_requests_total{route=\"/a\",status=\"200\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("http_requests_total{route=\"/b\",status=\"404\"} 1\n"), std::string::npos);
}

TEST(Metrics, HistogramBucketsAreCumulativeWithSumAndCount) {
  Registry registry;
  static constexpr double kBounds[] = {0.1, 1.0};
  auto& latency = registry.histogram("latency_seconds", "Latency.", {}, kBounds).with({});
  latency.observe(0.05);
  latency.observe(0.5);
  latency.observe(0.5);
  latency.observe(7);
  const std::string text = registry.render();
  EXPECT_NE(text.find("latency_seconds_bucket{le=\"0.1\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("latency_seconds_bucket{le=\"1\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("latency_seconds_bucket{le=\"+Inf\"} 4\n"), std::string::npos);
  EXPECT_NE(text.find("latency_seconds_sum 8.05\n"), std::string::npos);
  EXPECT_NE(text.find("latency_seconds_count 4\n"), std::string::npos);
}

TEST(Metrics, LabelValuesAreEscaped) {
  Registry registry;
  registry.counter("c", "C.", {"path"}).with({"a\"b\\c\nd"}).inc();
  EXPECT_NE(registry.render().find(R"(c{path="a\"b\\c\nd"} 1)"), std::string::npos);
}

TEST(Metrics, ConcurrentIncrementsAreNotLost) {
  Registry registry;
  auto& family = registry.counter("c", "C.", {"k"});
  std::vector<std::jthread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&family] {
      for (int i = 0; i < 10000; ++i)
        family.with({"x"}).inc();
    });
  }
  threads.clear();
  EXPECT_EQ(family.with({"x"}).value(), 40000U);
}

}  // namespace
}  // namespace esp::metrics
