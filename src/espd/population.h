// The population use cases over one store, and the workers that run their jobs: built
// together, stopped in reverse.
#pragma once

#include <boost/asio/thread_pool.hpp>

#include "config/config.h"
#include "population/experiments.h"
#include "population/fresh_populations.h"
#include "population/generations.h"
#include "population/job_board.h"
#include "population/workers.h"
#include "store/store.h"

namespace esp::espd {

population::WorkerOptions worker_options(const config::Config& config);

struct PopulationCore {
  PopulationCore(store::Store& store, const config::Config& config)
      : generations(store, board, fresh, storage_pool,
                    {.max_memory_bytes = config.max_generation_memory_bytes,
                     .runs_jobs = config.workers > 0}),
        records(store),
        workers(store, board, fresh, worker_options(config)) {}

  // After the transports stopped (board.close() ended their waits first): lets the
  // storage work in flight finish and the workers end their jobs.
  void stop() {
    storage_pool.join();
    workers.stop();
  }

  // Storage calls of REST handlers and waits: short, but they may wait on a disk flush.
  boost::asio::thread_pool storage_pool{4};
  population::JobBoard board;
  population::FreshPopulations fresh;
  population::Generations generations;
  population::ExperimentRecords records;
  population::Workers workers;
};

}  // namespace esp::espd
