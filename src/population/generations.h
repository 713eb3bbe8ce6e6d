// The population service's use cases, shared by gRPC and REST: submit a generation
// request (a durable job), wait for it, read a checkpoint; and the job itself.
#pragma once

#include <chrono>
#include <string>

#include "core/error.h"
#include "population/job_board.h"
#include "population_structs.pb.h"
#include "store/embedded.h"

namespace esp::population {

struct Caller {
  std::string subject;  // owner of the experiments it creates
};

class Generations {
 public:
  Generations(store::Store& store, JobBoard& board) : store_(store), board_(board) {}

  // Validates the parameters, creates the experiment on its first request, stores the
  // client's metrics and queues the job, all keyed so the same request returns the same
  // job. kInvalidArgument ("Path: ...\nError: ..." lines), kNotFound for an unknown
  // source checkpoint, kFailedPrecondition when the network differs from the experiment's.
  Result<store::Job> submit(const Caller& caller, const ::population::PopulationRequest& request);

  // The job once it has ended, or kDeadlineExceeded at `deadline`.
  Result<store::Job> wait(const std::string& job_id,
                          std::chrono::steady_clock::time_point deadline);

  // The population of a checkpoint exactly as it was handed out.
  Result<::population::PopulationResponse> checkpoint(const Caller& caller,
                                                      const std::string& experiment_id,
                                                      const std::string& checkpoint_id);

 private:
  store::Store& store_;
  JobBoard& board_;
};

// Runs one claimed job to a checkpoint: breeds the generation and stores it.
// `threads` is the engine's parallelism.
Result<store::Checkpoint> run_generation_job(store::Store& store, const store::Job& job,
                                             unsigned threads);

}  // namespace esp::population
