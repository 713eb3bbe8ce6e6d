// SQLite implementations of the population service's repositories.
#pragma once

#include <memory>

#include "store/population.h"
#include "store/sqlite.h"

namespace esp::store {

// The schema these repositories need, as one migration.
extern const std::string_view kPopulationSchema;
// Indexes for listing and deleting an experiment's checkpoints and jobs.
extern const std::string_view kPopulationListings;
// Jobs record the generation they produced, so nothing parses it out of a checkpoint id.
extern const std::string_view kJobResultGeneration;
// Checkpoints keep their parent generation's summary, for statistics without payloads.
extern const std::string_view kCheckpointStats;
// A failed job keeps its error's code, so a caller's mistake is told as one.
extern const std::string_view kJobErrorCode;

std::unique_ptr<Experiments> sqlite_experiments(std::shared_ptr<Database> db);
std::unique_ptr<Checkpoints> sqlite_checkpoints(std::shared_ptr<Database> db);
std::unique_ptr<Jobs> sqlite_jobs(std::shared_ptr<Database> db);

}  // namespace esp::store
