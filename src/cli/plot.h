// What `esp run` writes about a run: per-generation statistics as CSV, and an SVG of
// the fitness curves (plus the final population and its Pareto front for two
// objectives).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "evolution/params.h"
#include "evolution/ranking.h"

namespace esp::cli {

struct GenerationRow {
  int generation = 0;
  std::string checkpoint_id;
  std::vector<double> best;  // per objective, in fitness order
  std::vector<double> mean;
};

// "generation,checkpoint_id,best_<metric>,mean_<metric>,..." and one line per row.
std::string stats_csv(const std::vector<evolution::Objective>& fitness,
                      const std::vector<GenerationRow>& rows);
// The rows of a stats.csv written by stats_csv (for --resume); none if unreadable.
std::vector<GenerationRow> read_stats_csv(const std::filesystem::path& path,
                                          const std::vector<evolution::Objective>& fitness);

// `final_metrics` of the last population and its first front (indices), drawn when there
// are two objectives.
std::string fitness_svg(const std::vector<evolution::Objective>& fitness,
                        const std::vector<GenerationRow>& rows,
                        const std::vector<evolution::MetricValues>& final_metrics,
                        const std::vector<std::size_t>& front);

}  // namespace esp::cli
