// The population service's use cases, shared by gRPC and REST in these types: submit a
// generation request (a durable job), wait for it, read a checkpoint; and the job itself.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>

#include "codec/population_json.h"
#include "core/error.h"
#include "evolution/ranking.h"
#include "population/experiments.h"
#include "population/fresh_populations.h"
#include "population/generation_request.h"
#include "population/job_board.h"
#include "population/population_bytes.h"
#include "population/recent_populations.h"
#include "population_structs.pb.h"
#include "store/store.h"

namespace esp::population {

struct GenerationLimits {
  // Jobs whose estimated peak (job_size.h) is larger are refused at submission.
  std::uint64_t max_memory_bytes = std::numeric_limits<std::uint64_t>::max();
  // Whether this process runs jobs. A request's interpretations are held for a worker
  // here only; an API-only replica lets them go at once.
  bool runs_jobs = true;
};

bool has_ended(const store::Job& job);

// Why a failed job failed, as its caller may be told: a mistake of the caller's in full;
// internal and storage failures as public_detail's sentence (the log has the rest).
Error failure_of(const store::Job& job);

class Generations {
 public:
  // Waits run their checks on `pool` (storage work, never an I/O thread).
  Generations(store::Store& store, JobBoard& board, FreshPopulations& fresh,
              boost::asio::thread_pool& pool, GenerationLimits limits = {})
      : store_(store), board_(board), fresh_(fresh), pool_(pool), limits_(limits) {}

  // Validates the parameters, creates the experiment on its first request (which must
  // carry parameters), stores the client's metrics and queues the job, all keyed so the
  // same request returns the same job. kInvalidArgument with one issue per bad value,
  // kNotFound for an unknown experiment without parameters or an unknown source
  // checkpoint, kFailedPrecondition when the network differs from the experiment's,
  // kResourceExhausted for a job larger than the limits.
  Result<store::Job> submit(const Caller& caller, GenerationRequest request);

  using JobDone = std::function<void(Result<store::Job>)>;
  // Calls `done` once, on the pool, with the job as it stands when it has ended, at
  // `deadline` or at shutdown, whichever comes first (kNotFound unless the caller may see
  // it). Holds no thread while it waits: a job ending in this process wakes it at once,
  // one ending in another replica is seen by re-reading every second.
  void when_ended(const Caller& caller, const std::string& job_id,
                  std::chrono::steady_clock::time_point deadline, JobDone done);

  // What a caller of the synchronous contract (gRPC NextPopulation) gets: the job once it
  // has ended and, if it succeeded, its population as PopulationResponse bytes in the
  // experiment's representation: the very bytes this process's worker wrote when it bred
  // it, else read from the checkpoint. A big population comes while its job still runs,
  // storing its checkpoint (kHandOverBeforeStoringFrom in generations.cpp).
  struct Ended {
    store::Job job;
    SharedBytes population;  // empty unless it succeeded or is being stored
  };
  using PopulationDone = std::function<void(Result<Ended>)>;
  // when_ended, then the population; kDeadlineExceeded, saying where the job stands, when
  // it has not ended by `deadline`.
  void when_bred(const Caller& caller, const std::string& job_id,
                 std::chrono::steady_clock::time_point deadline, PopulationDone done);

  // Lets go of the input a call handed over with its request (submit), once the call has
  // its answer or gave up: it is kept for the worker in this process only until then.
  void forget_input(const std::string& input_key) { fresh_.forget_input(input_key); }

  // The job as it stands, if the caller may see it (its owner, or an admin).
  Result<store::Job> operation(const Caller& caller, const std::string& job_id);
  // Ends the caller's queued or running job as cancelled; an ended job stays as it was.
  Result<store::Job> cancel(const Caller& caller, const std::string& job_id);

  // Whether a checkpoint is read with its candidates' networks, or for a view of their
  // ids, identities and metrics only (the dashboard's), which is spared writing them.
  enum class Interpretations { kIncluded, kLeftOut };
  // The population of a checkpoint exactly as it was handed out: the caller's own, or
  // `owner`'s for an admin (owner_for). Left out, every interpretation is empty.
  Result<::population::PopulationResponse> checkpoint(
      const Caller& caller, const std::optional<std::string>& owner,
      const std::string& experiment_id, const std::string& checkpoint_id,
      Interpretations interpretations = Interpretations::kIncluded);
  // The same as the message's bytes. In esp's binary layout these are the stored bytes,
  // answered without parsing or writing them again (a copy less of a 400 MB population);
  // in another, the stored bytes with each interpretation written anew (recoded_bytes).
  Result<SharedBytes> checkpoint_bytes(const Caller& caller,
                                       const std::optional<std::string>& owner,
                                       const std::string& experiment_id,
                                       const std::string& checkpoint_id);
  // A checkpoint's stored bytes read where they lie (read_population), and how each
  // candidate's interpretation reads in the experiment's representation: for writing it in
  // another form (REST's JSON) without recoding every candidate into bytes, or a message of
  // them, first. No `interpretation.write` in esp's binary layout: as stored.
  struct CheckpointView {
    PopulationView population;
    codec::Interpretation interpretation;
  };
  Result<CheckpointView> checkpoint_view(const Caller& caller,
                                         const std::optional<std::string>& owner,
                                         const std::string& experiment_id,
                                         const std::string& checkpoint_id);

 private:
  struct Found {
    store::Checkpoint record;
    evolution::ExperimentParams params;
  };
  // The caller's checkpoint, its parameters read and its answer's size checked.
  Result<Found> find_checkpoint(const std::string& owner, const std::string& experiment_id,
                                const std::string& checkpoint_id);
  // That checkpoint's stored bytes where they lie, and its experiment's representation.
  struct Opened {
    Found found;
    codec::CandidateCodec codec;
    SharedBytes stored;
  };
  Result<Opened> open_checkpoint(const std::string& owner, const std::string& experiment_id,
                                 const std::string& checkpoint_id);
  Result<::population::PopulationResponse> load_checkpoint(const std::string& owner,
                                                           const std::string& experiment_id,
                                                           const std::string& checkpoint_id,
                                                           Interpretations interpretations);
  // The checkpoint in the experiment's representation (recoded_bytes), or as stored: in
  // esp's binary layout, or when its interpretations are to be left out.
  Result<SharedBytes> answer_bytes(const std::string& owner, const std::string& experiment_id,
                                   const std::string& checkpoint_id,
                                   Interpretations interpretations = Interpretations::kIncluded);
  Result<std::string> params_for(const Caller& caller, const GenerationRequest& request);

  store::Store& store_;
  JobBoard& board_;
  FreshPopulations& fresh_;
  boost::asio::thread_pool& pool_;
  GenerationLimits limits_;
};

// Where a job's time went, for its log line and the population benchmark, and whether
// its population went to a waiting call before its checkpoint was stored.
struct JobReport {
  double load_ms = 0;  // reading the source checkpoint and the client's metrics
  // Breeding (or seeding) the generation, and beside it reading the parents' weight texts
  // out of the request (texts_from_request).
  double engine_ms = 0;
  double encode_ms = 0;  // writing the population's bytes
  double store_ms = 0;   // writing the checkpoint payload (fsynced)
  // Writing its answer in a representation other than esp's layout, beyond the above.
  double answer_ms = 0;
  bool handed_over = false;
  // Parents whose weight texts were read out of the client's request, not written again.
  std::size_t texts_from_request = 0;
};

// Runs one claimed job to a checkpoint: breeds the generation and stores it.
// `cores` bounds its parallelism (a small generation uses fewer); `recent` supplies the
// source population when this process bred it and keeps the new one; `fresh` gets the
// population message for a call in this process that awaits the job.
Result<store::Checkpoint> run_generation_job(store::Store& store, const store::Job& job,
                                             unsigned cores, RecentPopulations& recent,
                                             FreshPopulations& fresh, JobReport& report);

}  // namespace esp::population
