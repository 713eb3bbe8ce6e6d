#include "api/rest/readiness.h"

namespace esp::rest {

void Readiness::add_check(std::string name, Check check) {
  std::lock_guard lock(mutex_);
  checks_.emplace_back(std::move(name), std::move(check));
}

Readiness::Report Readiness::report() const {
  Report report;
  report.shutting_down = shutting_down_;
  report.ready = !report.shutting_down;
  std::lock_guard lock(mutex_);
  for (const auto& [name, check] : checks_) {
    auto failure = check();
    if (failure) report.ready = false;
    report.checks.push_back({name, std::move(failure)});
  }
  return report;
}

}  // namespace esp::rest
