// A small Prometheus registry: counters, gauges and histograms with labels,
// rendered in the text exposition format (version 0.0.4). Recording is a
// map lookup plus relaxed atomics, cheap enough for every request.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace esp::metrics {

class Counter {
 public:
  void inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void inc(std::int64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  void dec(std::int64_t n = 1) { value_.fetch_sub(n, std::memory_order_relaxed); }
  void set(std::int64_t v) { value_.store(v, std::memory_order_relaxed); }
  std::int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> value_{0};
};

class Histogram {
 public:
  // `upper_bounds` ascending; +Inf is implied.
  explicit Histogram(std::span<const double> upper_bounds);
  void observe(double value);

  std::span<const double> upper_bounds() const { return upper_bounds_; }
  std::uint64_t bucket_count(size_t bucket) const;  // not cumulative; last is +Inf
  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::span<const double> upper_bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;
  std::atomic<std::uint64_t> count_{0};
  std::atomic<double> sum_{0.0};
};

// Seconds buckets for request latencies, from 0.1 ms to 60 s.
std::span<const double> latency_buckets_seconds();

// One metric name with fixed label names; each distinct label-value tuple is
// a series with a stable address.
template <typename Series>
class Family {
 public:
  using Factory = std::function<std::unique_ptr<Series>()>;
  Family(std::string name, std::string help, std::vector<std::string> label_names, Factory factory)
      : name_(std::move(name)),
        help_(std::move(help)),
        label_names_(std::move(label_names)),
        factory_(std::move(factory)) {}

  // Label values in the order of the family's label names.
  Series& with(std::initializer_list<std::string_view> label_values);
  void render(std::string& out) const;

 private:
  struct Entry {
    std::vector<std::string> label_values;
    std::unique_ptr<Series> series;
  };
  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
  Factory factory_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
};

class Registry {
 public:
  Family<Counter>& counter(std::string name, std::string help, std::vector<std::string> labels);
  Family<Gauge>& gauge(std::string name, std::string help, std::vector<std::string> labels);
  Family<Histogram>& histogram(std::string name, std::string help, std::vector<std::string> labels,
                               std::span<const double> upper_bounds);
  // Appends text of metrics computed at scrape time (process stats, say).
  void add_collector(std::function<void(std::string&)> collector);

  std::string render() const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Family<Counter>>> counters_;
  std::vector<std::unique_ptr<Family<Gauge>>> gauges_;
  std::vector<std::unique_ptr<Family<Histogram>>> histograms_;
  std::vector<std::function<void(std::string&)>> collectors_;
};

// Appends a label value escaped for the exposition format.
void append_label_value(std::string& out, std::string_view value);

}  // namespace esp::metrics
