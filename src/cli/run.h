// `esp run`: a whole ESP loop against espd. Asks for the seed (or resumes from a
// checkpoint), evaluates every candidate locally in a built-in domain, sends the
// metrics back, and repeats; reports progress, and writes stats.csv, fitness.svg and
// summary.json into the output folder.
#pragma once

#include <cstdint>
#include <filesystem>
#include <ostream>
#include <string>

#include "cli/domains.h"
#include "cli/server.h"
#include "core/error.h"

namespace esp::cli {

struct RunOptions {
  std::string params_json;
  std::string experiment_id;
  int generations = 0;  // stop after this generation; 0: the parameters' nb_generations
  // Stop once this run has evaluated this many candidates (0: no limit). CMA-ES restarts
  // grow the population, so a budget in evaluations is what compares optimisers.
  std::int64_t max_evaluations = 0;
  std::string resume;  // a checkpoint id to continue from
  std::filesystem::path output_dir;
  bool terminal = false;  // redraw one progress line instead of printing a line each
};

struct RunSummary {
  std::string last_checkpoint;
  int generation = 0;
  std::int64_t evaluations = 0;  // candidates this run evaluated (since it started or resumed)
  Validation validation;
};

Result<RunSummary> run_experiment(Server& server, const Domain& domain, const RunOptions& options,
                                  std::ostream& out);

}  // namespace esp::cli
