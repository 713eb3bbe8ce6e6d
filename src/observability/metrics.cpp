#include "observability/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace esp::metrics {
namespace {

std::string series_key(std::initializer_list<std::string_view> values) {
  std::string key;
  for (std::string_view value : values) {
    key.append(value);
    key += '\x1f';
  }
  return key;
}

void append_labels(std::string& out, const std::vector<std::string>& names,
                   const std::vector<std::string>& values, std::string_view extra_name = {},
                   std::string_view extra_value = {}) {
  if (names.empty() && extra_name.empty()) return;
  out += '{';
  bool first = true;
  for (size_t i = 0; i < names.size(); ++i) {
    if (!first) out += ',';
    first = false;
    out += names[i];
    out += "=\"";
    append_label_value(out, values[i]);
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!first) out += ',';
    out += extra_name;
    out += "=\"";
    out += extra_value;
    out += '"';
  }
  out += '}';
}

void append_header(std::string& out, const std::string& name, const std::string& help,
                   std::string_view type) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

std::string format_bound(double bound) {
  return fmt::format("{}", bound);
}

void render_series(std::string& out, const std::string& name, const std::vector<std::string>& names,
                   const std::vector<std::string>& values, const Counter& counter) {
  out += name;
  append_labels(out, names, values);
  fmt::format_to(std::back_inserter(out), " {}\n", counter.value());
}

void render_series(std::string& out, const std::string& name, const std::vector<std::string>& names,
                   const std::vector<std::string>& values, const Gauge& gauge) {
  out += name;
  append_labels(out, names, values);
  fmt::format_to(std::back_inserter(out), " {}\n", gauge.value());
}

void render_series(std::string& out, const std::string& name, const std::vector<std::string>& names,
                   const std::vector<std::string>& values, const Histogram& histogram) {
  std::uint64_t cumulative = 0;
  const auto bounds = histogram.upper_bounds();
  for (size_t i = 0; i <= bounds.size(); ++i) {
    cumulative += histogram.bucket_count(i);
    out += name;
    out += "_bucket";
    append_labels(out, names, values, "le", i < bounds.size() ? format_bound(bounds[i]) : "+Inf");
    fmt::format_to(std::back_inserter(out), " {}\n", cumulative);
  }
  out += name;
  out += "_sum";
  append_labels(out, names, values);
  fmt::format_to(std::back_inserter(out), " {}\n", histogram.sum());
  out += name;
  out += "_count";
  append_labels(out, names, values);
  fmt::format_to(std::back_inserter(out), " {}\n", histogram.count());
}

template <typename Series>
std::string_view type_name();
template <>
std::string_view type_name<Counter>() {
  return "counter";
}
template <>
std::string_view type_name<Gauge>() {
  return "gauge";
}
template <>
std::string_view type_name<Histogram>() {
  return "histogram";
}

}  // namespace

Histogram::Histogram(std::span<const double> upper_bounds)
    : upper_bounds_(upper_bounds),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(upper_bounds.size() + 1)) {}

void Histogram::observe(double value) {
  const auto it = std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value);
  buckets_[static_cast<size_t>(it - upper_bounds_.begin())].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

std::uint64_t Histogram::bucket_count(size_t bucket) const {
  return buckets_[bucket].load(std::memory_order_relaxed);
}

std::span<const double> latency_buckets_seconds() {
  static constexpr std::array<double, 16> kBounds{
      0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60};
  return kBounds;
}

template <typename Series>
Series& Family<Series>::with(std::initializer_list<std::string_view> label_values) {
  std::string key = series_key(label_values);
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    Entry entry{std::vector<std::string>(label_values.begin(), label_values.end()), factory_()};
    it = entries_.emplace(std::move(key), std::move(entry)).first;
  }
  return *it->second.series;
}

template <typename Series>
void Family<Series>::render(std::string& out) const {
  append_header(out, name_, help_, type_name<Series>());
  std::vector<const Entry*> sorted;
  {
    std::lock_guard lock(mutex_);
    sorted.reserve(entries_.size());
    for (const auto& [key, entry] : entries_)
      sorted.push_back(&entry);
  }
  // Series are never removed, so the pointers stay valid without the lock.
  std::sort(sorted.begin(), sorted.end(),
            [](const Entry* a, const Entry* b) { return a->label_values < b->label_values; });
  for (const Entry* entry : sorted) {
    render_series(out, name_, label_names_, entry->label_values, *entry->series);
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

Family<Counter>& Registry::counter(std::string name, std::string help,
                                   std::vector<std::string> labels) {
  std::lock_guard lock(mutex_);
  return *counters_.emplace_back(
      std::make_unique<Family<Counter>>(std::move(name), std::move(help), std::move(labels),
                                        [] { return std::make_unique<Counter>(); }));
}

Family<Gauge>& Registry::gauge(std::string name, std::string help,
                               std::vector<std::string> labels) {
  std::lock_guard lock(mutex_);
  return *gauges_.emplace_back(
      std::make_unique<Family<Gauge>>(std::move(name), std::move(help), std::move(labels),
                                      [] { return std::make_unique<Gauge>(); }));
}

Family<Histogram>& Registry::histogram(std::string name, std::string help,
                                       std::vector<std::string> labels,
                                       std::span<const double> upper_bounds) {
  std::lock_guard lock(mutex_);
  return *histograms_.emplace_back(std::make_unique<Family<Histogram>>(
      std::move(name), std::move(help), std::move(labels),
      [upper_bounds] { return std::make_unique<Histogram>(upper_bounds); }));
}

void Registry::add_collector(std::function<void(std::string&)> collector) {
  std::lock_guard lock(mutex_);
  collectors_.push_back(std::move(collector));
}

std::string Registry::render() const {
  std::string out;
  out.reserve(8192);
  std::lock_guard lock(mutex_);
  for (const auto& family : counters_)
    family->render(out);
  for (const auto& family : gauges_)
    family->render(out);
  for (const auto& family : histograms_)
    family->render(out);
  for (const auto& collector : collectors_)
    collector(out);
  return out;
}

void append_label_value(std::string& out, std::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
}

}  // namespace esp::metrics
