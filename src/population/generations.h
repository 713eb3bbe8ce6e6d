// The population service's use cases, shared by gRPC and REST: submit a generation
// request (a durable job), wait for it, read a checkpoint; and the job itself.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "core/error.h"
#include "population/experiments.h"
#include "population/fresh_populations.h"
#include "population/job_board.h"
#include "population/recent_populations.h"
#include "population_structs.pb.h"
#include "store/store.h"

namespace esp::population {

struct GenerationLimits {
  // Jobs whose estimated peak (job_size.h) is larger are refused at submission.
  std::uint64_t max_memory_bytes = std::numeric_limits<std::uint64_t>::max();
};

class Generations {
 public:
  Generations(store::Store& store, JobBoard& board, FreshPopulations& fresh,
              GenerationLimits limits = {})
      : store_(store), board_(board), fresh_(fresh), limits_(limits) {}

  // Validates the parameters, creates the experiment on its first request, stores the
  // client's metrics and queues the job, all keyed so the same request returns the same
  // job. kInvalidArgument ("Path: ...\nError: ..." lines), kNotFound for an unknown
  // source checkpoint, kFailedPrecondition when the network differs from the experiment's,
  // kResourceExhausted for a job larger than the limits.
  Result<store::Job> submit(const Caller& caller, const ::population::PopulationRequest& request);

  // The job once it has ended, or kDeadlineExceeded at `deadline`.
  Result<store::Job> wait(const std::string& job_id,
                          std::chrono::steady_clock::time_point deadline);

  // What a synchronous caller (gRPC NextPopulation) gets: the job once it has ended and,
  // if it succeeded, its population, handed over by this process's worker when it bred
  // it, else read from the checkpoint. kDeadlineExceeded at `deadline`.
  struct Ended {
    store::Job job;
    std::optional<::population::PopulationResponse> population;
  };
  Result<Ended> await_population(const std::string& job_id,
                                 std::chrono::steady_clock::time_point deadline);

  // The job as it stands, if the caller may see it (its owner, or an admin).
  Result<store::Job> operation(const Caller& caller, const std::string& job_id);
  // Ends the caller's queued or running job as cancelled; an ended job stays as it was.
  Result<store::Job> cancel(const Caller& caller, const std::string& job_id);

  // The population of `owner`'s checkpoint exactly as it was handed out.
  Result<::population::PopulationResponse> checkpoint(const std::string& owner,
                                                      const std::string& experiment_id,
                                                      const std::string& checkpoint_id);

 private:
  store::Store& store_;
  JobBoard& board_;
  FreshPopulations& fresh_;
  GenerationLimits limits_;
};

// Where a job's time went, for its log line and the population benchmark.
struct JobTimings {
  double load_ms = 0;    // reading the source checkpoint and the client's metrics
  double engine_ms = 0;  // breeding (or seeding) the generation
  double encode_ms = 0;  // building and serializing the population message
  double store_ms = 0;   // writing the checkpoint payload (fsynced)
};

// Runs one claimed job to a checkpoint: breeds the generation and stores it.
// `threads` is the engine's parallelism; `recent` supplies the source population when
// this process bred it and keeps the new one; `fresh` gets the population message for a
// call in this process that awaits the job.
Result<store::Checkpoint> run_generation_job(store::Store& store, const store::Job& job,
                                             unsigned threads, RecentPopulations& recent,
                                             FreshPopulations& fresh, JobTimings& timings);

}  // namespace esp::population
