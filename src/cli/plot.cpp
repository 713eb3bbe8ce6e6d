#include "cli/plot.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace esp::cli {
namespace {

constexpr int kPanelWidth = 640;
constexpr int kPanelHeight = 260;
constexpr int kMargin = 72;  // room for axis labels such as 1.245e-09

struct Range {
  double low = 0;
  double high = 1;
  void widen(double value) {
    low = std::min(low, value);
    high = std::max(high, value);
  }
  double at(double value, double from, double to) const {
    const double span = high > low ? high - low : 1;
    return from + (value - low) / span * (to - from);
  }
};

Range range_of(const std::vector<double>& values) {
  Range range{values.empty() ? 0 : values.front(), values.empty() ? 1 : values.front()};
  for (double v : values)
    range.widen(v);
  return range;
}

// One panel: axes, labels, and polylines or dots in `top`..`top + kPanelHeight`.
class Panel {
 public:
  Panel(std::string& svg, int top, Range x, Range y, const std::string& title)
      : svg_(svg), top_(top), x_(x), y_(y) {
    svg_ += fmt::format(R"(<text x="{}" y="{}" font-size="14" font-weight="bold">{}</text>)"
                        R"(<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="#999"/>)"
                        R"(<text x="{}" y="{}" font-size="11" text-anchor="end">{:.3g}</text>)"
                        R"(<text x="{}" y="{}" font-size="11" text-anchor="end">{:.3g}</text>)"
                        R"(<text x="{}" y="{}" font-size="11">{:.3g}</text>)"
                        R"(<text x="{}" y="{}" font-size="11" text-anchor="end">{:.3g}</text>)"
                        "\n",
                        kMargin, top - 8, title, kMargin, top, kPanelWidth, kPanelHeight,
                        kMargin - 4, top + 10, y.high, kMargin - 4, top + kPanelHeight, y.low,
                        kMargin, top + kPanelHeight + 14, x.low, kMargin + kPanelWidth,
                        top + kPanelHeight + 14, x.high);
  }
  double px(double x) const { return x_.at(x, kMargin, kMargin + kPanelWidth); }
  double py(double y) const { return y_.at(y, top_ + kPanelHeight, top_); }

  void line(const std::vector<double>& xs, const std::vector<double>& ys, const char* colour,
            const char* label, int legend_row) {
    std::string points;
    for (std::size_t i = 0; i < xs.size(); ++i)
      points += fmt::format("{:.1f},{:.1f} ", px(xs[i]), py(ys[i]));
    svg_ += fmt::format(R"(<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>)"
                        R"(<text x="{}" y="{}" font-size="12" fill="{}">{}</text>)"
                        "\n",
                        colour, points, kMargin + kPanelWidth - 120, top_ + 18 + 16 * legend_row,
                        colour, label);
  }
  void dot(double x, double y, const char* colour, double radius) {
    svg_ += fmt::format(R"(<circle cx="{:.1f}" cy="{:.1f}" r="{}" fill="{}"/>)", px(x), py(y),
                        radius, colour);
  }

 private:
  std::string& svg_;
  int top_;
  Range x_;
  Range y_;
};

}  // namespace

std::string stats_csv(const std::vector<evolution::Objective>& fitness,
                      const std::vector<GenerationRow>& rows) {
  std::string csv = "generation,checkpoint_id";
  for (const auto& objective : fitness)
    csv += ",best_" + objective.metric_name + ",mean_" + objective.metric_name;
  csv += "\n";
  for (const auto& row : rows) {
    csv += fmt::format("{},{}", row.generation, row.checkpoint_id);
    for (std::size_t i = 0; i < row.best.size(); ++i)
      csv += fmt::format(",{:.9g},{:.9g}", row.best[i], row.mean[i]);
    csv += "\n";
  }
  return csv;
}

std::vector<GenerationRow> read_stats_csv(const std::filesystem::path& path,
                                          const std::vector<evolution::Objective>& fitness) {
  std::vector<GenerationRow> rows;
  std::ifstream file(path);
  std::string line;
  if (!std::getline(file, line)) return rows;
  while (std::getline(file, line)) {
    std::vector<std::string> cells;
    std::stringstream fields(line);
    for (std::string cell; std::getline(fields, cell, ',');)
      cells.push_back(cell);
    if (cells.size() != 2 + 2 * fitness.size()) return {};
    GenerationRow row{.generation = std::stoi(cells[0]), .checkpoint_id = cells[1]};
    for (std::size_t i = 0; i < fitness.size(); ++i) {
      row.best.push_back(std::stod(cells[2 + 2 * i]));
      row.mean.push_back(std::stod(cells[3 + 2 * i]));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string fitness_svg(const std::vector<evolution::Objective>& fitness,
                        const std::vector<GenerationRow>& rows,
                        const std::vector<evolution::MetricValues>& final_metrics,
                        const std::vector<std::size_t>& front) {
  const bool pareto = fitness.size() == 2 && !final_metrics.empty();
  const int panels = static_cast<int>(fitness.size()) + (pareto ? 1 : 0);
  const int height = panels * (kPanelHeight + 60) + 20;
  std::string svg = fmt::format(
      R"(<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" font-family="sans-serif">)"
      R"(<rect width="100%" height="100%" fill="white"/>)"
      "\n",
      kPanelWidth + 2 * kMargin, height);
  std::vector<double> generations;
  for (const auto& row : rows)
    generations.push_back(row.generation);
  for (std::size_t i = 0; i < fitness.size(); ++i) {
    std::vector<double> best, mean;
    for (const auto& row : rows) {
      best.push_back(row.best[i]);
      mean.push_back(row.mean[i]);
    }
    Range y = range_of(best);
    for (double v : mean)
      y.widen(v);
    Panel panel(svg, 30 + static_cast<int>(i) * (kPanelHeight + 60), range_of(generations), y,
                fmt::format("{} ({}) by generation", fitness[i].metric_name,
                            fitness[i].maximize ? "maximised" : "minimised"));
    panel.line(generations, best, "#1f77b4", "best", 0);
    panel.line(generations, mean, "#ff7f0e", "mean", 1);
  }
  if (pareto) {
    std::vector<double> xs, ys;
    for (const auto& metrics : final_metrics) {
      xs.push_back(metrics.at(fitness[0].metric_name));
      ys.push_back(metrics.at(fitness[1].metric_name));
    }
    Panel panel(svg, 30 + static_cast<int>(fitness.size()) * (kPanelHeight + 60), range_of(xs),
                range_of(ys),
                fmt::format("final population: {} against {}, Pareto front in red",
                            fitness[1].metric_name, fitness[0].metric_name));
    for (std::size_t i = 0; i < xs.size(); ++i)
      panel.dot(xs[i], ys[i], "#bbbbbb", 3);
    for (auto index : front)
      panel.dot(xs[index], ys[index], "#d62728", 4);
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace esp::cli
