// Whether this replica should receive traffic: every registered check passes
// and no shutdown has begun.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace esp::rest {

class Readiness {
 public:
  // Returns nullopt when healthy, otherwise why not.
  using Check = std::function<std::optional<std::string>()>;

  void add_check(std::string name, Check check);
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
  Report report() const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<std::string, Check>> checks_;
  std::atomic<bool> shutting_down_{false};
};

}  // namespace esp::rest
