#include "population/workers.h"

#include <malloc.h>

#include <condition_variable>
#include <mutex>
#include <system_error>

#include "observability/log.h"
#include "population/generations.h"

namespace esp::population {

Workers::Workers(store::Store& store, JobBoard& board, FreshPopulations& fresh,
                 WorkerOptions options, JobRunner runner)
    : store_(store),
      board_(board),
      fresh_(fresh),
      options_(std::move(options)),
      runner_(std::move(runner)) {}

void Workers::start() {
  for (unsigned i = 0; i < options_.workers; ++i) {
    threads_.emplace_back(
        [this, worker = options_.replica + "/" + std::to_string(i)] { run(worker); });
  }
}

void Workers::stop() {
  stopping_ = true;
  board_.job_queued();  // wakes idle workers
  for (auto& thread : threads_)
    thread.join();
  threads_.clear();
}

void Workers::run(const std::string& worker) {
  ++alive_;
  while (!stopping_ && !board_.closed()) {
    const auto seen = board_.queued_count();
    auto job = store_.jobs->claim(worker, options_.lease, options_.max_attempts);
    if (!job.ok()) {
      log::error("job_claim_failed", {{"worker", worker}, {"detail", job.error().message}});
    } else if (job->has_value()) {
      execute(worker, **job);
      continue;
    }
    board_.wait_for_queued(seen, std::chrono::steady_clock::now() + options_.poll);
  }
  --alive_;
}

namespace {

// A job's error as its caller will be told it. Only what a job can find wrong with its
// request (or its size) keeps its code; anything else, e.g. a stored payload gone
// (kNotFound from the blob store), is espd's own failure, not the caller's.
Error as_recorded(const Error& error) {
  switch (error.code) {
    case Code::kInvalidArgument:
    case Code::kFailedPrecondition:
    case Code::kResourceExhausted:
    case Code::kUnavailable:
      return error;
    default:
      return Error{Code::kInternal, error.message};
  }
}

}  // namespace

namespace {
constexpr std::int64_t kTrimAfterBytes = 64 << 20;
}  // namespace

void Workers::execute(const std::string& worker, const store::Job& job) {
  log::info("job_started", {{"operation", job.id},
                            {"experiment", job.experiment_id},
                            {"attempt", job.attempts},
                            {"worker", worker}});
  // Job lines are few and are what an operator reads after a crash: out at once, not
  // with the next batch of access-log lines.
  log::flush();
  const auto started = std::chrono::steady_clock::now();
  // The lease is renewed while the engine runs, so only a dead process loses it.
  std::mutex done_mutex;
  std::condition_variable done_changed;
  bool done = false;
  std::thread heartbeat([&] {
    std::unique_lock lock(done_mutex);
    while (!done_changed.wait_for(lock, options_.heartbeat, [&] { return done; })) {
      auto renewed = store_.jobs->heartbeat(job.id, worker, options_.lease);
      if (!renewed.ok() || !*renewed)
        log::warn("job_lease_lost", {{"operation", job.id}, {"worker", worker}});
    }
  });
  JobReport report;
  auto checkpoint = run_job(job, report);
  // A big generation freed tens of megabytes in small blocks (metrics, identities), which
  // glibc keeps resident unless asked; the next request would arrive beside them.
  if (checkpoint.ok() && checkpoint->size_bytes >= kTrimAfterBytes) malloc_trim(0);
  {
    std::lock_guard lock(done_mutex);
    done = true;
  }
  done_changed.notify_all();
  heartbeat.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (checkpoint.ok()) {
    const auto recording = std::chrono::steady_clock::now();
    auto recorded = store_.jobs->succeed(job.id, worker, *checkpoint);
    const double record_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - recording)
            .count();
    if (!recorded.ok()) {
      log::error("job_record_failed",
                 {{"operation", job.id}, {"detail", recorded.error().message}});
    } else {
      log::info("job_succeeded", {{"operation", job.id},
                                  {"checkpoint", checkpoint->checkpoint_id},
                                  {"seconds", seconds},
                                  {"queued_ms", job.started_at - job.created_at},
                                  {"load_ms", report.load_ms},
                                  {"engine_ms", report.engine_ms},
                                  {"encode_ms", report.encode_ms},
                                  {"answer_ms", report.answer_ms},
                                  {"store_ms", report.store_ms},
                                  {"record_ms", record_ms},
                                  {"texts_from_request", report.texts_from_request},
                                  {"size_bytes", checkpoint->size_bytes},
                                  {"recorded", *recorded}});
    }
  } else if (report.handed_over) {
    // Its population went out before storing it failed: recorded as failed, the job
    // could never make that checkpoint, which the client may already name. It runs again
    // instead (the same bits), its lease given up now so that the next claim takes it
    // before any job waiting for that checkpoint. Should that fail too, the lease runs out.
    auto released = store_.jobs->heartbeat(job.id, worker, std::chrono::milliseconds(0));
    log::error("job_store_failed", {{"operation", job.id},
                                    {"detail", checkpoint.error().message},
                                    {"seconds", seconds},
                                    {"retry", released.ok() ? "now" : "when its lease runs out"}});
  } else {
    log::error(
        "job_failed",
        {{"operation", job.id}, {"detail", checkpoint.error().message}, {"seconds", seconds}});
    // If this is not recorded either, the lease runs out and the job is tried again.
    if (auto failed = store_.jobs->fail(job.id, worker, as_recorded(checkpoint.error()));
        !failed.ok())
      log::error("job_record_failed", {{"operation", job.id}, {"detail", failed.error().message}});
  }
  log::flush();
  board_.job_ended();
}

Result<store::Checkpoint> Workers::run_job(const store::Job& job, JobReport& report) {
  try {
    return runner_(store_, job, options_.engine_threads, recent_, fresh_, report);
  } catch (const std::bad_alloc&) {
    return Error{Code::kResourceExhausted,
                 "the generation ran out of memory; use fewer candidates or a smaller network, "
                 "or give espd more memory"};
  } catch (const std::system_error& e) {
    // std::thread's EAGAIN: no address space (or task slot) left for the engine's threads.
    if (e.code() == std::errc::resource_unavailable_try_again)
      return Error{Code::kResourceExhausted,
                   "the generation ran out of memory for its threads; use fewer candidates or a "
                   "smaller network, or give espd more memory"};
    return Error{Code::kInternal, std::string("the generation failed: ") + e.what()};
  } catch (const std::exception& e) {
    return Error{Code::kInternal, std::string("the generation failed: ") + e.what()};
  }
}

}  // namespace esp::population
