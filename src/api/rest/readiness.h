// Whether this replica should receive traffic: every registered check passes and no
// shutdown has begun. The checks (a database query among them) run on a thread of their
// own every refresh interval, each within a timeout; /readyz answers the last result, so
// a slow or hung database never holds an I/O thread or piles up probe work.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace esp::rest {

class Readiness {
 public:
  // Returns nullopt when healthy, otherwise why not.
  using Check = std::function<std::optional<std::string>()>;

  struct Timing {
    std::chrono::milliseconds refresh{1000};
    std::chrono::milliseconds timeout{2000};  // a check slower than this has failed
  };

  Readiness() = default;
  explicit Readiness(Timing timing) : timing_(timing) {}
  ~Readiness() { stop(); }
  Readiness(const Readiness&) = delete;
  Readiness& operator=(const Readiness&) = delete;

  // Before start().
  void add_check(std::string name, Check check);
  // Runs the checks once now, then every refresh interval until stop().
  void start();
  void stop();
  void mark_shutting_down() { shutting_down_ = true; }

  struct CheckResult {
    std::string name;
    std::optional<std::string> failure;
  };
  struct Report {
    bool ready = true;
    bool shutting_down = false;
    std::vector<CheckResult> checks;
  };
  // The last refresh's results; never runs a check.
  Report report() const;

 private:
  // One run of one check, on a detached thread so a hung check blocks nobody.
  struct Run {
    std::mutex mutex;
    std::condition_variable done_changed;
    bool done = false;
    std::optional<std::string> failure;
  };
  struct Slot {
    std::string name;
    std::shared_ptr<const Check> check;
    std::shared_ptr<Run> running;  // still going from an earlier refresh, if any
  };
  std::optional<std::string> run_within_timeout(Slot& slot);
  void refresh();

  Timing timing_;
  std::vector<Slot> slots_;
  mutable std::mutex report_mutex_;
  std::vector<CheckResult> results_;
  std::atomic<bool> shutting_down_{false};
  std::mutex stop_mutex_;
  std::condition_variable stop_changed_;
  bool stopping_ = false;
  std::thread refresher_;
};

}  // namespace esp::rest
