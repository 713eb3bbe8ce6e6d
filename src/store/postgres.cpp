#include "store/postgres.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <pqxx/pqxx>
#include <thread>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
// libpqxx 6.4 loses the PGresult of a statement sent on a connection the server has
// closed (libpqxx 7 does not); the pool's reconnect path does that on purpose.
extern "C" __attribute__((used, visibility("default"))) const char* __lsan_default_suppressions() {
  return "leak:PQmakeEmptyPGresult\n";
}
#endif

namespace esp::store {
namespace {

constexpr long kMigrationLock = 0x65737064;  // "espd"
constexpr const char* kJobChannel = "esp_jobs";

const std::vector<std::string_view> kMigrations = {
    R"sql(
CREATE TABLE users (
  email TEXT PRIMARY KEY, password_hash TEXT NOT NULL, scopes TEXT NOT NULL,
  disabled BOOLEAN NOT NULL DEFAULT FALSE, created_at BIGINT NOT NULL);
CREATE TABLE clients (
  client_id TEXT PRIMARY KEY, name TEXT NOT NULL, secret_hash TEXT NOT NULL, scopes TEXT NOT NULL,
  disabled BOOLEAN NOT NULL DEFAULT FALSE, created_at BIGINT NOT NULL);
CREATE TABLE experiments (
  seq BIGSERIAL UNIQUE, owner TEXT NOT NULL, id TEXT NOT NULL, params_json TEXT NOT NULL,
  created_at BIGINT NOT NULL, PRIMARY KEY (owner, id));
CREATE TABLE checkpoints (
  seq BIGSERIAL UNIQUE, owner TEXT NOT NULL, experiment_id TEXT NOT NULL,
  checkpoint_id TEXT NOT NULL, generation INTEGER NOT NULL, job_id TEXT NOT NULL UNIQUE,
  blob_key TEXT NOT NULL, size_bytes BIGINT NOT NULL, params_json TEXT NOT NULL,
  created_at BIGINT NOT NULL, PRIMARY KEY (owner, checkpoint_id));
CREATE INDEX checkpoints_by_experiment ON checkpoints (owner, experiment_id, generation);
CREATE TABLE jobs (
  id TEXT PRIMARY KEY, owner TEXT NOT NULL, experiment_id TEXT NOT NULL,
  idempotency_key TEXT NOT NULL UNIQUE, source_checkpoint TEXT NOT NULL,
  params_json TEXT NOT NULL, input_blob_key TEXT NOT NULL, status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0, lease_owner TEXT NOT NULL DEFAULT '',
  lease_expires_at BIGINT NOT NULL DEFAULT 0, created_at BIGINT NOT NULL,
  started_at BIGINT NOT NULL DEFAULT 0, finished_at BIGINT NOT NULL DEFAULT 0,
  result_checkpoint TEXT NOT NULL DEFAULT '', error TEXT NOT NULL DEFAULT '');
CREATE INDEX jobs_claimable ON jobs (status, created_at);
CREATE INDEX jobs_by_experiment ON jobs (owner, experiment_id))sql",
    // Jobs record the generation they produced, so nothing parses it out of a checkpoint id.
    R"sql(
ALTER TABLE jobs ADD COLUMN result_generation INTEGER NOT NULL DEFAULT 0;
UPDATE jobs SET result_generation =
  COALESCE((SELECT generation FROM checkpoints WHERE checkpoints.job_id = jobs.id), 0))sql",
    // Checkpoints keep their parent generation's summary, for statistics without payloads;
    // jobs get the insertion order experiments and checkpoints page by.
    R"sql(
ALTER TABLE checkpoints ADD COLUMN stats_json TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN seq BIGSERIAL UNIQUE)sql",
    // A failed job keeps its error's code, so a caller's mistake is told as one.
    R"sql(
ALTER TABLE jobs ADD COLUMN error_code TEXT NOT NULL DEFAULT 'internal')sql",
};

// A fixed set of connections; a broken one is reopened on its next use.
class Pool {
 public:
  Pool(std::string url, int size) : url_(std::move(url)), idle_(static_cast<std::size_t>(size)) {}

  // Runs `work` in a transaction and commits it. A connection lost before the commit is
  // reopened and the transaction run once more (it was not applied).
  template <typename Work>
  auto run(Work work) -> decltype(work(std::declval<pqxx::work&>())) {
    for (int attempt = 0;; ++attempt) {
      auto connection = acquire();
      try {
        if (!connection) connection = std::make_unique<pqxx::connection>(url_);
        pqxx::work transaction(*connection);
        auto result = work(transaction);
        transaction.commit();
        release(std::move(connection));
        return result;
      } catch (const pqxx::broken_connection& e) {
        // One broken connection usually means the server restarted: every idle one is
        // stale too, and the retry must not pick another of them.
        release(nullptr, /*drop_idle=*/true);
        if (attempt == 1) return Error{Code::kUnavailable, std::string("database: ") + e.what()};
      } catch (const pqxx::unique_violation& e) {
        release(std::move(connection));
        return Error{Code::kAlreadyExists, std::string("database: ") + e.what()};
      } catch (const std::exception& e) {
        release(connection && connection->is_open() ? std::move(connection) : nullptr);
        return Error{Code::kInternal, std::string("database: ") + e.what()};
      }
    }
  }

 private:
  std::unique_ptr<pqxx::connection> acquire() {
    std::unique_lock lock(mutex_);
    available_.wait(lock, [&] { return !idle_.empty(); });
    auto connection = std::move(idle_.back());
    idle_.pop_back();
    if (connection && !connection->is_open()) connection.reset();
    return connection;
  }
  void release(std::unique_ptr<pqxx::connection> connection, bool drop_idle = false) {
    {
      std::lock_guard lock(mutex_);
      if (drop_idle) {
        for (auto& idle : idle_)
          idle.reset();
      }
      idle_.push_back(std::move(connection));
    }
    available_.notify_one();
  }

  std::string url_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;  // null: to be opened
};

using Row = pqxx::row;

std::string text(const Row& row, int column) {
  return row[column].as<std::string>();
}
std::int64_t number(const Row& row, int column) {
  return row[column].as<std::int64_t>();
}

template <typename Record, typename Read>
std::optional<Record> first(const pqxx::result& rows, Read read) {
  if (rows.empty()) return std::nullopt;
  return read(rows[0]);
}

// Rows selected with seq first, one more than the page asked for.
template <typename Record, typename Read>
Page<Record> page_of(const pqxx::result& rows, int limit, Read read) {
  Page<Record> page;
  for (const auto& row : rows) {
    if (static_cast<int>(page.items.size()) == limit) {
      page.next = std::to_string(number(rows[page.items.size() - 1], 0));
      break;
    }
    page.items.push_back(read(row));
  }
  return page;
}

constexpr const char* kJobColumns =
    "id, owner, experiment_id, idempotency_key, source_checkpoint, params_json, input_blob_key, "
    "status, attempts, created_at, started_at, finished_at, result_checkpoint, error, "
    "result_generation, error_code";

JobStatus status_named(const std::string& name) {
  for (auto status : {JobStatus::kQueued, JobStatus::kRunning, JobStatus::kSucceeded,
                      JobStatus::kFailed, JobStatus::kCancelled}) {
    if (name_of(status) == name) return status;
  }
  return JobStatus::kFailed;
}

// `f` is the column the job's columns start at.
Job read_job_at(const Row& r, int f) {
  return {.id = text(r, f),
          .owner = text(r, f + 1),
          .experiment_id = text(r, f + 2),
          .idempotency_key = text(r, f + 3),
          .source_checkpoint = text(r, f + 4),
          .params_json = text(r, f + 5),
          .input_blob_key = text(r, f + 6),
          .status = status_named(text(r, f + 7)),
          .attempts = static_cast<int>(number(r, f + 8)),
          .created_at = number(r, f + 9),
          .started_at = number(r, f + 10),
          .finished_at = number(r, f + 11),
          .result_checkpoint = text(r, f + 12),
          .error = text(r, f + 13),
          .error_code = code_named(text(r, f + 15)),
          .result_generation = static_cast<int>(number(r, f + 14))};
}

Job read_job(const Row& r) {
  return read_job_at(r, 0);
}

constexpr const char* kCheckpointColumns =
    "owner, experiment_id, checkpoint_id, generation, job_id, blob_key, size_bytes, params_json, "
    "created_at, stats_json";

Checkpoint read_checkpoint(const Row& r, int f = 0) {
  return {.owner = text(r, f),
          .experiment_id = text(r, f + 1),
          .checkpoint_id = text(r, f + 2),
          .generation = static_cast<int>(number(r, f + 3)),
          .job_id = text(r, f + 4),
          .blob_key = text(r, f + 5),
          .size_bytes = number(r, f + 6),
          .params_json = text(r, f + 7),
          .created_at = number(r, f + 8),
          .stats_json = text(r, f + 9)};
}

Experiment read_experiment(const Row& r, int f = 0) {
  return {text(r, f), text(r, f + 1), text(r, f + 2), number(r, f + 3)};
}

class PgUsers final : public Users {
 public:
  explicit PgUsers(std::shared_ptr<Pool> pool) : pool_(std::move(pool)) {}
  Result<bool> add(const User& u) override {
    auto done = pool_->run([&](pqxx::work& w) -> Result<bool> {
      w.exec_params("INSERT INTO users VALUES ($1, $2, $3, $4, $5)", u.email, u.password_hash,
                    u.scopes, u.disabled, u.created_at);
      return true;
    });
    if (!done.ok() && done.error().code == Code::kAlreadyExists)
      return Error{Code::kAlreadyExists, "a user with email " + u.email + " already exists"};
    return done;
  }
  Result<std::optional<User>> find(const std::string& email) override {
    return pool_->run([&](pqxx::work& w) -> Result<std::optional<User>> {
      return first<User>(w.exec_params("SELECT * FROM users WHERE email = $1", email), read);
    });
  }
  Result<std::vector<User>> list() override {
    return pool_->run([&](pqxx::work& w) -> Result<std::vector<User>> {
      std::vector<User> users;
      for (const auto& row : w.exec("SELECT * FROM users ORDER BY email"))
        users.push_back(read(row));
      return users;
    });
  }
  Result<bool> disable(const std::string& email) override {
    return pool_->run([&](pqxx::work& w) -> Result<bool> {
      if (w.exec_params("UPDATE users SET disabled = TRUE WHERE email = $1", email)
              .affected_rows() == 0)
        return Error{Code::kNotFound, "no user with email " + email};
      return true;
    });
  }

 private:
  static User read(const Row& r) {
    return {text(r, 0), text(r, 1), text(r, 2), r[3].as<bool>(), number(r, 4)};
  }
  std::shared_ptr<Pool> pool_;
};

class PgClients final : public Clients {
 public:
  explicit PgClients(std::shared_ptr<Pool> pool) : pool_(std::move(pool)) {}
  Result<bool> add(const Client& c) override {
    return pool_->run([&](pqxx::work& w) -> Result<bool> {
      w.exec_params("INSERT INTO clients VALUES ($1, $2, $3, $4, $5, $6)", c.client_id, c.name,
                    c.secret_hash, c.scopes, c.disabled, c.created_at);
      return true;
    });
  }
  Result<std::optional<Client>> find(const std::string& client_id) override {
    return pool_->run([&](pqxx::work& w) -> Result<std::optional<Client>> {
      return first<Client>(w.exec_params("SELECT * FROM clients WHERE client_id = $1", client_id),
                           [](const Row& r) {
                             return Client{text(r, 0), text(r, 1),      text(r, 2),
                                           text(r, 3), r[4].as<bool>(), number(r, 5)};
                           });
    });
  }

 private:
  std::shared_ptr<Pool> pool_;
};

class PgExperiments final : public Experiments {
 public:
  explicit PgExperiments(std::shared_ptr<Pool> pool) : pool_(std::move(pool)) {}
  Result<Stored> create_if_absent(const Experiment& e) override {
    return pool_->run([&](pqxx::work& w) -> Result<Stored> {
      const bool inserted =
          !w.exec_params(
                "INSERT INTO experiments (owner, id, params_json, created_at) VALUES ($1, $2, $3, "
                "$4) ON CONFLICT DO NOTHING RETURNING id",
                e.owner, e.id, e.params_json, e.created_at)
               .empty();
      return Stored{read_experiment(w.exec_params1("SELECT owner, id, params_json, created_at FROM "
                                                   "experiments WHERE owner = $1 AND id = $2",
                                                   e.owner, e.id)),
                    inserted};
    });
  }
  Result<std::optional<Experiment>> find(const std::string& owner, const std::string& id) override {
    return pool_->run([&](pqxx::work& w) -> Result<std::optional<Experiment>> {
      return first<Experiment>(
          w.exec_params("SELECT owner, id, params_json, created_at FROM experiments WHERE owner = "
                        "$1 AND id = $2",
                        owner, id),
          [](const Row& r) { return read_experiment(r); });
    });
  }
  Result<Page<Experiment>> list(const std::string& owner, const PageRequest& page) override {
    auto after = position_after(page);
    if (!after.ok()) return after.error();
    return pool_->run([&](pqxx::work& w) -> Result<Page<Experiment>> {
      auto rows = w.exec_params(
          "SELECT seq, owner, id, params_json, created_at FROM experiments WHERE ($1 = '' OR "
          "owner = $1) AND seq > $2 ORDER BY seq LIMIT $3",
          owner, *after, page.limit + 1);
      return page_of<Experiment>(rows, page.limit,
                                 [](const Row& r) { return read_experiment(r, 1); });
    });
  }
  Result<std::optional<RemovedExperiment>> remove(const std::string& owner,
                                                  const std::string& id) override {
    return pool_->run([&](pqxx::work& w) -> Result<std::optional<RemovedExperiment>> {
      if (w.exec_params("DELETE FROM experiments WHERE owner = $1 AND id = $2", owner, id)
              .affected_rows() == 0)
        return std::optional<RemovedExperiment>();
      RemovedExperiment removed;
      for (const char* sql :
           {"DELETE FROM checkpoints WHERE owner = $1 AND experiment_id = $2 RETURNING blob_key",
            "DELETE FROM jobs WHERE owner = $1 AND experiment_id = $2 RETURNING input_blob_key"}) {
        for (const auto& row : w.exec_params(sql, owner, id)) {
          if (auto key = text(row, 0); !key.empty()) removed.blob_keys.push_back(key);
        }
      }
      return std::optional<RemovedExperiment>(std::move(removed));
    });
  }

 private:
  std::shared_ptr<Pool> pool_;
};

class PgCheckpoints final : public Checkpoints {
 public:
  explicit PgCheckpoints(std::shared_ptr<Pool> pool) : pool_(std::move(pool)) {}
  Result<std::optional<Checkpoint>> find(const std::string& owner,
                                         const std::string& checkpoint_id) override {
    return one(std::string("SELECT ") + kCheckpointColumns +
                   " FROM checkpoints WHERE owner = $1 AND checkpoint_id = $2",
               owner, checkpoint_id);
  }
  Result<std::optional<Checkpoint>> find_by_job(const std::string& job_id) override {
    return pool_->run([&](pqxx::work& w) -> Result<std::optional<Checkpoint>> {
      return first<Checkpoint>(w.exec_params(std::string("SELECT ") + kCheckpointColumns +
                                                 " FROM checkpoints WHERE job_id = $1",
                                             job_id),
                               [](const Row& r) { return read_checkpoint(r); });
    });
  }
  Result<std::optional<Checkpoint>> latest(const std::string& owner,
                                           const std::string& experiment_id) override {
    return one(std::string("SELECT ") + kCheckpointColumns +
                   " FROM checkpoints WHERE owner = $1 AND experiment_id = $2 ORDER BY generation "
                   "DESC, seq DESC LIMIT 1",
               owner, experiment_id);
  }
  Result<Page<Checkpoint>> list(const std::string& owner, const std::string& experiment_id,
                                const PageRequest& page) override {
    auto after = position_after(page);
    if (!after.ok()) return after.error();
    return pool_->run([&](pqxx::work& w) -> Result<Page<Checkpoint>> {
      auto rows = w.exec_params(std::string("SELECT seq, ") + kCheckpointColumns +
                                    " FROM checkpoints WHERE owner = $1 AND experiment_id = $2 AND "
                                    "seq > $3 ORDER BY seq LIMIT $4",
                                owner, experiment_id, *after, page.limit + 1);
      return page_of<Checkpoint>(rows, page.limit,
                                 [](const Row& r) { return read_checkpoint(r, 1); });
    });
  }
  Result<std::vector<GenerationSummary>> summaries(const std::string& owner,
                                                   const std::string& experiment_id) override {
    return pool_->run([&](pqxx::work& w) -> Result<std::vector<GenerationSummary>> {
      auto rows = w.exec_params(
          "SELECT generation, checkpoint_id, created_at, stats_json FROM checkpoints WHERE owner "
          "= $1 AND experiment_id = $2 ORDER BY generation, seq",
          owner, experiment_id);
      std::vector<GenerationSummary> summaries;
      summaries.reserve(rows.size());
      for (const auto& r : rows) {
        summaries.push_back({.generation = static_cast<int>(number(r, 0)),
                             .checkpoint_id = text(r, 1),
                             .created_at = number(r, 2),
                             .stats_json = text(r, 3)});
      }
      return summaries;
    });
  }

 private:
  Result<std::optional<Checkpoint>> one(const std::string& sql, const std::string& a,
                                        const std::string& b) {
    return pool_->run([&](pqxx::work& w) -> Result<std::optional<Checkpoint>> {
      return first<Checkpoint>(w.exec_params(sql, a, b),
                               [](const Row& r) { return read_checkpoint(r); });
    });
  }
  std::shared_ptr<Pool> pool_;
};

class PgJobs final : public Jobs {
 public:
  explicit PgJobs(std::shared_ptr<Pool> pool) : pool_(std::move(pool)) {}
  Result<Job> enqueue(const Job& j) override {
    return pool_->run([&](pqxx::work& w) -> Result<Job> {
      w.exec_params(
          "INSERT INTO jobs (id, owner, experiment_id, idempotency_key, source_checkpoint, "
          "params_json, input_blob_key, status, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, "
          "'queued', $8) ON CONFLICT (idempotency_key) DO UPDATE SET status = 'queued', "
          "lease_owner = '', lease_expires_at = 0, created_at = $8, started_at = 0, "
          "finished_at = 0, error = '', error_code = 'internal' WHERE jobs.status IN ('failed', "
          "'cancelled')",
          j.id, j.owner, j.experiment_id, j.idempotency_key, j.source_checkpoint, j.params_json,
          j.input_blob_key, j.created_at);
      w.exec_params("SELECT pg_notify($1, 'queued')", kJobChannel);  // sent at commit
      return read_job(w.exec_params1(
          std::string("SELECT ") + kJobColumns + " FROM jobs WHERE idempotency_key = $1",
          j.idempotency_key));
    });
  }
  Result<std::optional<Job>> find(const std::string& id) override {
    return pool_->run([&](pqxx::work& w) -> Result<std::optional<Job>> {
      return first<Job>(
          w.exec_params(std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id = $1", id),
          read_job);
    });
  }
  Result<Page<Job>> list(const std::string& owner, const std::string& experiment_id,
                         const PageRequest& page) override {
    auto after = position_after(page);
    if (!after.ok()) return after.error();
    return pool_->run([&](pqxx::work& w) -> Result<Page<Job>> {
      // Newest first: a page token is the smallest position its page held.
      auto rows =
          w.exec_params(std::string("SELECT seq, ") + kJobColumns +
                            " FROM jobs WHERE owner = $1 AND experiment_id = $2 AND ($3 = 0 "
                            "OR seq < $3) ORDER BY seq DESC LIMIT $4",
                        owner, experiment_id, *after, page.limit + 1);
      return page_of<Job>(rows, page.limit, [](const Row& r) { return read_job_at(r, 1); });
    });
  }
  Result<std::optional<Job>> claim(const std::string& worker, std::chrono::milliseconds lease,
                                   int max_attempts) override {
    const std::int64_t now = unix_millis();
    return pool_->run([&](pqxx::work& w) -> Result<std::optional<Job>> {
      const auto given_up = w.exec_params(
          "UPDATE jobs SET status = 'failed', lease_owner = '', finished_at = $1, error = $2 || "
          "attempts || $3, error_code = 'internal' WHERE id IN (SELECT id FROM jobs WHERE status = "
          "'running' AND "
          "lease_expires_at < $1 AND attempts >= $4 FOR UPDATE SKIP LOCKED) RETURNING id",
          now, std::string(kGaveUpBefore), std::string(kGaveUpAfter), max_attempts);
      if (!given_up.empty()) w.exec_params("SELECT pg_notify($1, 'ended')", kJobChannel);
      return first<Job>(
          w.exec_params(
              std::string("UPDATE jobs SET status = 'running', lease_owner = $1, "
                          "lease_expires_at = $2, attempts = attempts + 1, started_at = CASE "
                          "WHEN started_at = 0 THEN $3 ELSE started_at END WHERE id = (SELECT id "
                          "FROM jobs WHERE status = 'queued' OR (status = 'running' AND "
                          "lease_expires_at < $3) ORDER BY created_at LIMIT 1 FOR UPDATE SKIP "
                          "LOCKED) RETURNING ") +
                  kJobColumns,
              worker, now + lease.count(), now),
          read_job);
    });
  }
  Result<bool> heartbeat(const std::string& job_id, const std::string& worker,
                         std::chrono::milliseconds lease) override {
    return pool_->run([&](pqxx::work& w) -> Result<bool> {
      return w.exec_params(
                  "UPDATE jobs SET lease_expires_at = $1 WHERE id = $2 AND lease_owner = "
                  "$3 AND status = 'running'",
                  unix_millis() + lease.count(), job_id, worker)
                 .affected_rows() == 1;
    });
  }
  Result<bool> succeed(const std::string& job_id, const std::string& worker,
                       const Checkpoint& c) override {
    return pool_->run([&](pqxx::work& w) -> Result<bool> {
      const auto claimed = w.exec_params(
          "SELECT id FROM jobs WHERE id = $1 AND lease_owner = $2 AND status = 'running' FOR "
          "UPDATE",
          job_id, worker);
      if (claimed.empty()) return false;
      w.exec_params(
          std::string("INSERT INTO checkpoints (") + kCheckpointColumns +
              ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (job_id) DO NOTHING",
          c.owner, c.experiment_id, c.checkpoint_id, c.generation, job_id, c.blob_key, c.size_bytes,
          c.params_json, c.created_at, c.stats_json);
      w.exec_params(
          "UPDATE jobs SET status = 'succeeded', finished_at = $1, (result_checkpoint, "
          "result_generation) = (SELECT checkpoint_id, generation FROM checkpoints WHERE job_id "
          "= $2) WHERE id = $2",
          unix_millis(), job_id);
      w.exec_params("SELECT pg_notify($1, 'ended')", kJobChannel);
      return true;
    });
  }
  Result<bool> fail(const std::string& job_id, const std::string& worker,
                    const Error& error) override {
    return pool_->run([&](pqxx::work& w) -> Result<bool> {
      const bool failed =
          w.exec_params(
               "UPDATE jobs SET status = 'failed', error = $1, error_code = $2, finished_at = $3 "
               "WHERE id = $4 AND lease_owner = $5 AND status = 'running'",
               error.message, std::string(code_name(error.code)), unix_millis(), job_id, worker)
              .affected_rows() == 1;
      if (failed) w.exec_params("SELECT pg_notify($1, 'ended')", kJobChannel);
      return failed;
    });
  }
  Result<std::optional<Job>> cancel(const std::string& job_id) override {
    return pool_->run([&](pqxx::work& w) -> Result<std::optional<Job>> {
      if (w.exec_params("UPDATE jobs SET status = 'cancelled', finished_at = $1, lease_owner = '' "
                        "WHERE id = $2 AND status IN ('queued', 'running')",
                        unix_millis(), job_id)
              .affected_rows() == 1)
        w.exec_params("SELECT pg_notify($1, 'ended')", kJobChannel);
      return first<Job>(
          w.exec_params(std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id = $1", job_id),
          read_job);
    });
  }

 private:
  std::shared_ptr<Pool> pool_;
};

// One connection that LISTENs on the job channel; reopened after a failure.
class PgJobNotifications final : public JobNotifications {
 public:
  explicit PgJobNotifications(std::string url) : url_(std::move(url)) {}
  ~PgJobNotifications() override { stop(); }

  void listen(std::function<void(Event)> on_event) override {
    thread_ = std::thread([this, on_event = std::move(on_event)] { run(on_event); });
  }
  void stop() override {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  class Receiver final : public pqxx::notification_receiver {
   public:
    Receiver(pqxx::connection& connection, std::function<void(Event)> on_event)
        : pqxx::notification_receiver(connection, kJobChannel), on_event_(std::move(on_event)) {}
    void operator()(const std::string& payload, int /*backend_pid*/) override {
      on_event_(payload == "queued" ? Event::kQueued : Event::kEnded);
    }

   private:
    std::function<void(Event)> on_event_;
  };

  void run(const std::function<void(Event)>& on_event) {
    while (!stopping_) {
      try {
        pqxx::connection connection(url_);
        Receiver receiver(connection, on_event);
        on_event(Event::kListening);
        while (!stopping_)
          connection.await_notification(0, 200'000);  // 200 ms: sees stop()
      } catch (const std::exception&) {
        for (int i = 0; i < 10 && !stopping_; ++i)
          std::this_thread::sleep_for(std::chrono::milliseconds(100));  // reconnect pacing
      }
    }
  }

  std::string url_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

Result<bool> migrate(const std::string& url) {
  try {
    pqxx::connection connection(url);
    pqxx::nontransaction session(connection);
    // Replicas starting together wait here for the first one's migrations.
    session.exec_params("SELECT pg_advisory_lock($1)", kMigrationLock);
    session.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)");
    const auto applied = session.exec1("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")[0]
                             .as<std::size_t>();
    for (std::size_t version = applied + 1; version <= kMigrations.size(); ++version) {
      session.exec("BEGIN");
      session.exec(std::string(kMigrations[version - 1]));
      session.exec_params("INSERT INTO schema_migrations VALUES ($1)", static_cast<int>(version));
      session.exec("COMMIT");
    }
    session.exec_params("SELECT pg_advisory_unlock($1)", kMigrationLock);
    return true;
  } catch (const std::exception& e) {
    return Error{Code::kUnavailable, std::string("database: ") + e.what()};
  }
}

}  // namespace

Result<Store> open_postgres(const PostgresOptions& options) {
  if (auto migrated = migrate(options.url); !migrated.ok()) return migrated.error();
  auto pool = std::make_shared<Pool>(options.url, options.pool_size);
  return Store{.users = std::make_unique<PgUsers>(pool),
               .clients = std::make_unique<PgClients>(pool),
               .experiments = std::make_unique<PgExperiments>(pool),
               .checkpoints = std::make_unique<PgCheckpoints>(pool),
               .jobs = std::make_unique<PgJobs>(pool),
               .blobs = std::make_unique<FileBlobs>(options.blobs_dir),
               .notifications = std::make_unique<PgJobNotifications>(options.url)};
}

}  // namespace esp::store
