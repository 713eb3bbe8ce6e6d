// Generation job workers: claim a job with a lease, keep the lease alive while the
// engine runs, store the checkpoint and finish the job exactly once.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "population/fresh_populations.h"
#include "population/generations.h"
#include "population/job_board.h"
#include "population/recent_populations.h"
#include "store/store.h"

namespace esp::population {

struct WorkerOptions {
  unsigned workers = 1;
  unsigned engine_threads = 1;
  std::chrono::milliseconds lease{30'000};
  int max_attempts = 3;  // claims of a job whose process died before it fails for good
  std::chrono::milliseconds heartbeat{10'000};
  std::chrono::milliseconds poll{1'000};  // for jobs queued by other replicas or orphaned
  std::string replica;                    // names this process in job leases
  std::size_t recent_populations_bytes = std::size_t{512} << 20;
  // Populations with more genomes than this are kept without them (recent_populations.h).
  std::size_t keep_genomes_bytes = std::size_t{256} << 20;
};

// What a worker runs for each claimed job: run_generation_job, unless a test says otherwise.
using JobRunner =
    std::function<Result<store::Checkpoint>(store::Store&, const store::Job&, unsigned threads,
                                            RecentPopulations&, FreshPopulations&, JobReport&)>;

class Workers {
 public:
  Workers(store::Store& store, JobBoard& board, FreshPopulations& fresh, WorkerOptions options,
          JobRunner runner = run_generation_job);
  ~Workers() { stop(); }
  Workers(const Workers&) = delete;
  Workers& operator=(const Workers&) = delete;

  void start();
  // Lets running jobs finish, then joins the threads.
  void stop();
  // How many workers are running (for readiness).
  unsigned alive() const { return alive_; }

 private:
  void run(const std::string& worker);
  void execute(const std::string& worker, const store::Job& job);
  // The runner's result; an exception it throws (std::bad_alloc above all) becomes the
  // job's error instead of ending the process.
  Result<store::Checkpoint> run_job(const store::Job& job, JobReport& timings);

  store::Store& store_;
  JobBoard& board_;
  FreshPopulations& fresh_;
  WorkerOptions options_;
  JobRunner runner_;
  std::atomic<bool> stopping_{false};
  std::atomic<unsigned> alive_{0};
  std::vector<std::thread> threads_;
  RecentPopulations recent_{options_.recent_populations_bytes, options_.keep_genomes_bytes};
};

}  // namespace esp::population
