#include "store/sqlite_population.h"

#include <array>
#include <charconv>

namespace esp::store {

const std::string_view kPopulationSchema = R"sql(
CREATE TABLE experiments (
  owner TEXT NOT NULL,
  id TEXT NOT NULL,
  params_json TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (owner, id)
);
CREATE TABLE checkpoints (
  owner TEXT NOT NULL,
  experiment_id TEXT NOT NULL,
  checkpoint_id TEXT NOT NULL,
  generation INTEGER NOT NULL,
  job_id TEXT NOT NULL UNIQUE,
  blob_key TEXT NOT NULL,
  size_bytes INTEGER NOT NULL,
  params_json TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (owner, checkpoint_id)
);
CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  experiment_id TEXT NOT NULL,
  idempotency_key TEXT NOT NULL UNIQUE,
  source_checkpoint TEXT NOT NULL,
  params_json TEXT NOT NULL,
  input_blob_key TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  lease_owner TEXT NOT NULL DEFAULT '',
  lease_expires_at INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  started_at INTEGER NOT NULL DEFAULT 0,
  finished_at INTEGER NOT NULL DEFAULT 0,
  result_checkpoint TEXT NOT NULL DEFAULT '',
  error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX jobs_claimable ON jobs (status, created_at))sql";

const std::string_view kPopulationListings = R"sql(
CREATE INDEX checkpoints_by_experiment ON checkpoints (owner, experiment_id, generation);
CREATE INDEX jobs_by_experiment ON jobs (owner, experiment_id))sql";

const std::string_view kJobResultGeneration = R"sql(
ALTER TABLE jobs ADD COLUMN result_generation INTEGER NOT NULL DEFAULT 0;
UPDATE jobs SET result_generation =
  COALESCE((SELECT generation FROM checkpoints WHERE checkpoints.job_id = jobs.id), 0))sql";

const std::string_view kCheckpointStats = R"sql(
ALTER TABLE checkpoints ADD COLUMN stats_json TEXT NOT NULL DEFAULT '')sql";

const std::string_view kJobErrorCode = R"sql(
ALTER TABLE jobs ADD COLUMN error_code TEXT NOT NULL DEFAULT 'internal')sql";

namespace {

constexpr std::array kStatusNames = {"queued", "running", "succeeded", "failed", "cancelled"};

JobStatus status_named(const std::string& name) {
  for (std::size_t i = 0; i < kStatusNames.size(); ++i) {
    if (name == kStatusNames[i]) return static_cast<JobStatus>(i);
  }
  return JobStatus::kFailed;
}

constexpr const char* kJobColumns =
    "id, owner, experiment_id, idempotency_key, source_checkpoint, params_json, input_blob_key, "
    "status, attempts, created_at, started_at, finished_at, result_checkpoint, error, "
    "result_generation, error_code";

// `first` is the column the job's columns start at.
Job read_job_at(const Statement& row, int first) {
  return {.id = row.text(first),
          .owner = row.text(first + 1),
          .experiment_id = row.text(first + 2),
          .idempotency_key = row.text(first + 3),
          .source_checkpoint = row.text(first + 4),
          .params_json = row.text(first + 5),
          .input_blob_key = row.text(first + 6),
          .status = status_named(row.text(first + 7)),
          .attempts = static_cast<int>(row.integer(first + 8)),
          .created_at = row.integer(first + 9),
          .started_at = row.integer(first + 10),
          .finished_at = row.integer(first + 11),
          .result_checkpoint = row.text(first + 12),
          .error = row.text(first + 13),
          .error_code = code_named(row.text(first + 15)),
          .result_generation = static_cast<int>(row.integer(first + 14))};
}

Job read_job(const Statement& row) {
  return read_job_at(row, 0);
}

constexpr const char* kCheckpointColumns =
    "owner, experiment_id, checkpoint_id, generation, job_id, blob_key, size_bytes, params_json, "
    "created_at, stats_json";

// `first` is the column the checkpoint's columns start at.
Checkpoint read_checkpoint(const Statement& row, int first = 0) {
  return {.owner = row.text(first),
          .experiment_id = row.text(first + 1),
          .checkpoint_id = row.text(first + 2),
          .generation = static_cast<int>(row.integer(first + 3)),
          .job_id = row.text(first + 4),
          .blob_key = row.text(first + 5),
          .size_bytes = row.integer(first + 6),
          .params_json = row.text(first + 7),
          .created_at = row.integer(first + 8),
          .stats_json = row.text(first + 9)};
}

// Runs `select` (bound, selecting the rowid as its first column) and reads up to
// `limit` records, one more row telling whether a next page exists.
template <typename Record, typename Read>
Result<Page<Record>> page_of(Result<Statement>& select, int limit, Read read) {
  if (!select.ok()) return select.error();
  Page<Record> page;
  std::int64_t last = 0;
  for (;;) {
    auto row = select->step();
    if (!row.ok()) return row.error();
    if (!*row) return page;
    if (static_cast<int>(page.items.size()) == limit) {
      page.next = std::to_string(last);
      return page;
    }
    last = select->integer(0);
    page.items.push_back(read(*select));
  }
}

// Runs `select` (already bound) and reads at most one row.
template <typename Record, typename Read>
Result<std::optional<Record>> one_row(Result<Statement>& select, Read read) {
  if (!select.ok()) return select.error();
  auto row = select->step();
  if (!row.ok()) return row.error();
  if (!*row) return std::optional<Record>();
  return std::optional<Record>(read(*select));
}

Experiment read_experiment(const Statement& row, int first = 0) {
  return {row.text(first), row.text(first + 1), row.text(first + 2), row.integer(first + 3)};
}

class SqliteExperiments final : public Experiments {
 public:
  explicit SqliteExperiments(std::shared_ptr<Database> db) : db_(std::move(db)) {}

  Result<Stored> create_if_absent(const Experiment& experiment) override {
    auto guard = db_->lock();
    auto insert = db_->prepare(
        "INSERT INTO experiments (owner, id, params_json, created_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT DO NOTHING RETURNING id");
    if (!insert.ok()) return insert.error();
    insert->bind(1, experiment.owner).bind(2, experiment.id).bind(3, experiment.params_json);
    insert->bind(4, experiment.created_at);
    auto inserted = insert->step();
    if (!inserted.ok()) return inserted.error();
    auto stored = find(experiment.owner, experiment.id);
    if (!stored.ok()) return stored.error();
    if (!stored->has_value()) return Error{Code::kInternal, "experiment vanished after insert"};
    return Stored{std::move(**stored), *inserted};
  }

  Result<std::optional<Experiment>> find(const std::string& owner, const std::string& id) override {
    auto guard = db_->lock();
    auto select = db_->prepare(
        "SELECT owner, id, params_json, created_at FROM experiments WHERE owner = ? AND id = ?");
    if (select.ok()) select->bind(1, owner).bind(2, id);
    return one_row<Experiment>(select, [](const Statement& row) { return read_experiment(row); });
  }

  Result<Page<Experiment>> list(const std::string& owner, const PageRequest& page) override {
    auto after = position_after(page);
    if (!after.ok()) return after.error();
    auto guard = db_->lock();
    auto select = db_->prepare(
        "SELECT rowid, owner, id, params_json, created_at FROM experiments WHERE (?1 = '' OR "
        "owner = ?1) AND rowid > ?2 ORDER BY rowid LIMIT ?3");
    if (select.ok()) select->bind(1, owner).bind(2, *after).bind(3, std::int64_t{page.limit} + 1);
    return page_of<Experiment>(select, page.limit,
                               [](const Statement& row) { return read_experiment(row, 1); });
  }

  Result<std::optional<RemovedExperiment>> remove(const std::string& owner,
                                                  const std::string& id) override {
    auto guard = db_->lock();
    if (auto begun = db_->execute("BEGIN IMMEDIATE"); !begun.ok()) return begun.error();
    auto removed = remove_records(owner, id);
    db_->execute(removed.ok() && removed->has_value() ? "COMMIT" : "ROLLBACK");
    return removed;
  }

 private:
  Result<std::optional<RemovedExperiment>> remove_records(const std::string& owner,
                                                          const std::string& id) {
    auto gone = db_->prepare("DELETE FROM experiments WHERE owner = ? AND id = ? RETURNING id");
    if (gone.ok()) gone->bind(1, owner).bind(2, id);
    auto experiment = one_row<std::string>(gone, [](const Statement& r) { return r.text(0); });
    if (!experiment.ok()) return experiment.error();
    if (!experiment->has_value()) return std::optional<RemovedExperiment>();
    RemovedExperiment removed;
    for (const char* sql :
         {"DELETE FROM checkpoints WHERE owner = ? AND experiment_id = ? RETURNING blob_key",
          "DELETE FROM jobs WHERE owner = ? AND experiment_id = ? RETURNING input_blob_key"}) {
      auto statement = db_->prepare(sql);
      if (!statement.ok()) return statement.error();
      statement->bind(1, owner).bind(2, id);
      for (;;) {
        auto row = statement->step();
        if (!row.ok()) return row.error();
        if (!*row) break;
        if (auto key = statement->text(0); !key.empty()) removed.blob_keys.push_back(key);
      }
    }
    return std::optional<RemovedExperiment>(std::move(removed));
  }

  std::shared_ptr<Database> db_;
};

class SqliteCheckpoints final : public Checkpoints {
 public:
  explicit SqliteCheckpoints(std::shared_ptr<Database> db) : db_(std::move(db)) {}

  Result<std::optional<Checkpoint>> find(const std::string& owner,
                                         const std::string& checkpoint_id) override {
    auto guard = db_->lock();
    auto select = db_->prepare(std::string("SELECT ") + kCheckpointColumns +
                               " FROM checkpoints WHERE owner = ? AND checkpoint_id = ?");
    if (select.ok()) select->bind(1, owner).bind(2, checkpoint_id);
    return one_row<Checkpoint>(select, [](const Statement& row) { return read_checkpoint(row); });
  }

  Result<std::optional<Checkpoint>> find_by_job(const std::string& job_id) override {
    auto guard = db_->lock();
    auto select = db_->prepare(std::string("SELECT ") + kCheckpointColumns +
                               " FROM checkpoints WHERE job_id = ?");
    if (select.ok()) select->bind(1, job_id);
    return one_row<Checkpoint>(select, [](const Statement& row) { return read_checkpoint(row); });
  }

  Result<std::optional<Checkpoint>> latest(const std::string& owner,
                                           const std::string& experiment_id) override {
    auto guard = db_->lock();
    auto select = db_->prepare(std::string("SELECT ") + kCheckpointColumns +
                               " FROM checkpoints WHERE owner = ? AND experiment_id = ? ORDER BY "
                               "generation DESC, rowid DESC LIMIT 1");
    if (select.ok()) select->bind(1, owner).bind(2, experiment_id);
    return one_row<Checkpoint>(select, [](const Statement& row) { return read_checkpoint(row); });
  }

  Result<Page<Checkpoint>> list(const std::string& owner, const std::string& experiment_id,
                                const PageRequest& page) override {
    auto after = position_after(page);
    if (!after.ok()) return after.error();
    auto guard = db_->lock();
    auto select = db_->prepare(std::string("SELECT rowid, ") + kCheckpointColumns +
                               " FROM checkpoints WHERE owner = ? AND experiment_id = ? AND "
                               "rowid > ? ORDER BY rowid LIMIT ?");
    if (select.ok()) {
      select->bind(1, owner).bind(2, experiment_id).bind(3, *after);
      select->bind(4, std::int64_t{page.limit} + 1);
    }
    return page_of<Checkpoint>(select, page.limit,
                               [](const Statement& row) { return read_checkpoint(row, 1); });
  }

  Result<std::vector<GenerationSummary>> summaries(const std::string& owner,
                                                   const std::string& experiment_id) override {
    auto guard = db_->lock();
    auto select = db_->prepare(
        "SELECT generation, checkpoint_id, created_at, stats_json FROM checkpoints WHERE owner = ? "
        "AND experiment_id = ? ORDER BY generation, rowid");
    if (!select.ok()) return select.error();
    select->bind(1, owner).bind(2, experiment_id);
    std::vector<GenerationSummary> rows;
    for (;;) {
      auto row = select->step();
      if (!row.ok()) return row.error();
      if (!*row) return rows;
      rows.push_back({.generation = static_cast<int>(select->integer(0)),
                      .checkpoint_id = select->text(1),
                      .created_at = select->integer(2),
                      .stats_json = select->text(3)});
    }
  }

 private:
  std::shared_ptr<Database> db_;
};

class SqliteJobs final : public Jobs {
 public:
  explicit SqliteJobs(std::shared_ptr<Database> db) : db_(std::move(db)) {}

  Result<Job> enqueue(const Job& job) override {
    auto guard = db_->lock();
    auto insert = db_->prepare(
        "INSERT OR IGNORE INTO jobs (id, owner, experiment_id, idempotency_key, source_checkpoint, "
        "params_json, "
        "input_blob_key, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', ?)");
    if (!insert.ok()) return insert.error();
    insert->bind(1, job.id)
        .bind(2, job.owner)
        .bind(3, job.experiment_id)
        .bind(4, job.idempotency_key);
    insert->bind(5, job.source_checkpoint).bind(6, job.params_json).bind(7, job.input_blob_key);
    insert->bind(8, job.created_at);
    if (auto done = insert->step(); !done.ok()) return done.error();
    auto requeue = db_->prepare(
        "UPDATE jobs SET status = 'queued', lease_owner = '', lease_expires_at = 0, created_at = "
        "?, started_at = 0, finished_at = 0, error = '', error_code = 'internal' WHERE "
        "idempotency_key = ? AND status IN "
        "('failed', 'cancelled')");
    if (!requeue.ok()) return requeue.error();
    requeue->bind(1, job.created_at).bind(2, job.idempotency_key);
    if (auto done = requeue->step(); !done.ok()) return done.error();
    auto select =
        db_->prepare(std::string("SELECT ") + kJobColumns + " FROM jobs WHERE idempotency_key = ?");
    if (select.ok()) select->bind(1, job.idempotency_key);
    auto stored = one_row<Job>(select, read_job);
    if (!stored.ok()) return stored.error();
    if (!stored->has_value()) return Error{Code::kInternal, "job vanished after insert"};
    return **stored;
  }

  Result<std::optional<Job>> find(const std::string& id) override {
    auto guard = db_->lock();
    auto select = db_->prepare(std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id = ?");
    if (select.ok()) select->bind(1, id);
    return one_row<Job>(select, read_job);
  }

  Result<Page<Job>> list(const std::string& owner, const std::string& experiment_id,
                         const PageRequest& page) override {
    auto after = position_after(page);
    if (!after.ok()) return after.error();
    auto guard = db_->lock();
    // Newest first: a page token is the smallest position its page held.
    auto select = db_->prepare(std::string("SELECT rowid, ") + kJobColumns +
                               " FROM jobs WHERE owner = ? AND experiment_id = ? AND (? = 0 OR "
                               "rowid < ?) ORDER BY rowid DESC LIMIT ?");
    if (select.ok()) {
      select->bind(1, owner).bind(2, experiment_id).bind(3, *after).bind(4, *after);
      select->bind(5, std::int64_t{page.limit} + 1);
    }
    return page_of<Job>(select, page.limit,
                        [](const Statement& row) { return read_job_at(row, 1); });
  }

  Result<std::optional<Job>> claim(const std::string& worker, std::chrono::milliseconds lease,
                                   int max_attempts) override {
    auto guard = db_->lock();
    const std::int64_t now = unix_millis();
    auto give_up = db_->prepare(
        "UPDATE jobs SET status = 'failed', lease_owner = '', finished_at = ?1, error = ?2 || "
        "attempts || ?3, error_code = 'internal' WHERE status = 'running' AND lease_expires_at < "
        "?1 AND attempts >= ?4");
    if (!give_up.ok()) return give_up.error();
    give_up->bind(1, now)
        .bind(2, kGaveUpBefore)
        .bind(3, kGaveUpAfter)
        .bind(4, std::int64_t{max_attempts});
    if (auto done = give_up->step(); !done.ok()) return done.error();
    auto update = db_->prepare(
        std::string(
            "UPDATE jobs SET status = 'running', lease_owner = ?1, lease_expires_at = ?2, "
            "attempts = attempts + 1, started_at = CASE WHEN started_at = 0 THEN ?3 ELSE "
            "started_at END "
            "WHERE id = (SELECT id FROM jobs WHERE status = 'queued' OR (status = 'running' AND "
            "lease_expires_at < ?3) ORDER BY created_at LIMIT 1) RETURNING ") +
        kJobColumns);
    if (update.ok()) update->bind(1, worker).bind(2, now + lease.count()).bind(3, now);
    return one_row<Job>(update, read_job);
  }

  Result<bool> heartbeat(const std::string& job_id, const std::string& worker,
                         std::chrono::milliseconds lease) override {
    auto guard = db_->lock();
    auto update = db_->prepare(
        "UPDATE jobs SET lease_expires_at = ? WHERE id = ? AND lease_owner = ? AND status = "
        "'running' RETURNING id");
    if (update.ok()) update->bind(1, unix_millis() + lease.count()).bind(2, job_id).bind(3, worker);
    auto row = one_row<std::string>(update, [](const Statement& r) { return r.text(0); });
    if (!row.ok()) return row.error();
    return row->has_value();
  }

  Result<bool> succeed(const std::string& job_id, const std::string& worker,
                       const Checkpoint& checkpoint) override {
    auto guard = db_->lock();
    if (auto begun = db_->execute("BEGIN IMMEDIATE"); !begun.ok()) return begun;
    auto outcome = record_success(job_id, worker, checkpoint);
    db_->execute(outcome.ok() && *outcome ? "COMMIT" : "ROLLBACK");
    return outcome;
  }

  Result<bool> fail(const std::string& job_id, const std::string& worker,
                    const Error& error) override {
    auto guard = db_->lock();
    auto update = db_->prepare(
        "UPDATE jobs SET status = 'failed', error = ?, error_code = ?, finished_at = ? WHERE id = "
        "? AND lease_owner = ? AND status = 'running' RETURNING id");
    if (update.ok()) {
      update->bind(1, error.message)
          .bind(2, std::string(code_name(error.code)))
          .bind(3, unix_millis())
          .bind(4, job_id)
          .bind(5, worker);
    }
    auto row = one_row<std::string>(update, [](const Statement& r) { return r.text(0); });
    if (!row.ok()) return row.error();
    return row->has_value();
  }

  Result<std::optional<Job>> cancel(const std::string& job_id) override {
    auto guard = db_->lock();
    auto update = db_->prepare(
        "UPDATE jobs SET status = 'cancelled', finished_at = ?, lease_owner = '' WHERE id = ? AND "
        "status IN ('queued', 'running')");
    if (!update.ok()) return update.error();
    update->bind(1, unix_millis()).bind(2, job_id);
    if (auto done = update->step(); !done.ok()) return done.error();
    return find(job_id);
  }

 private:
  Result<bool> record_success(const std::string& job_id, const std::string& worker,
                              const Checkpoint& c) {
    auto insert = db_->prepare(std::string("INSERT OR IGNORE INTO checkpoints (") +
                               kCheckpointColumns + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!insert.ok()) return insert.error();
    insert->bind(1, c.owner)
        .bind(2, c.experiment_id)
        .bind(3, c.checkpoint_id)
        .bind(4, std::int64_t{c.generation});
    insert->bind(5, job_id)
        .bind(6, c.blob_key)
        .bind(7, c.size_bytes)
        .bind(8, c.params_json)
        .bind(9, c.created_at)
        .bind(10, c.stats_json);
    if (auto done = insert->step(); !done.ok()) return done.error();
    auto update = db_->prepare(
        "UPDATE jobs SET status = 'succeeded', finished_at = ?, result_checkpoint = "
        "(SELECT checkpoint_id FROM checkpoints WHERE job_id = ?), result_generation = "
        "(SELECT generation FROM checkpoints WHERE job_id = ?) "
        "WHERE id = ? AND lease_owner = ? AND status = 'running' RETURNING id");
    if (!update.ok()) return update.error();
    update->bind(1, unix_millis()).bind(2, job_id).bind(3, job_id).bind(4, job_id).bind(5, worker);
    auto row = update->step();
    if (!row.ok()) return row.error();
    return *row;
  }

  std::shared_ptr<Database> db_;
};

}  // namespace

Result<std::int64_t> position_after(const PageRequest& page) {
  if (page.after.empty()) return std::int64_t{0};
  std::int64_t position = 0;
  const auto* end = page.after.data() + page.after.size();
  auto [stop, failure] = std::from_chars(page.after.data(), end, position);
  if (failure != std::errc() || stop != end || position <= 0)
    return Error{Code::kInvalidArgument, "page_token is not one this server handed out"};
  return position;
}

std::string_view name_of(JobStatus status) {
  return kStatusNames[static_cast<std::size_t>(status)];
}

std::int64_t unix_millis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::unique_ptr<Experiments> sqlite_experiments(std::shared_ptr<Database> db) {
  return std::make_unique<SqliteExperiments>(std::move(db));
}
std::unique_ptr<Checkpoints> sqlite_checkpoints(std::shared_ptr<Database> db) {
  return std::make_unique<SqliteCheckpoints>(std::move(db));
}
std::unique_ptr<Jobs> sqlite_jobs(std::shared_ptr<Database> db) {
  return std::make_unique<SqliteJobs>(std::move(db));
}

}  // namespace esp::store
