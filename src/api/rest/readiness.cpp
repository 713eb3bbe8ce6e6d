#include "api/rest/readiness.h"

#include <fmt/format.h>

namespace esp::rest {

void Readiness::add_check(std::string name, Check check) {
  slots_.push_back({std::move(name), std::make_shared<const Check>(std::move(check)), nullptr});
}

std::optional<std::string> Readiness::run_within_timeout(Slot& slot) {
  if (!slot.running) {
    auto run = std::make_shared<Run>();
    std::thread([run, check = slot.check] {
      auto failure = (*check)();
      std::lock_guard lock(run->mutex);
      run->failure = std::move(failure);
      run->done = true;
      run->done_changed.notify_all();
    }).detach();
    slot.running = std::move(run);
  }
  std::unique_lock lock(slot.running->mutex);
  if (!slot.running->done_changed.wait_for(lock, timing_.timeout,
                                           [&] { return slot.running->done; })) {
    // Still running: the next refresh waits for this same run instead of starting another.
    return fmt::format("no answer within {} ms", timing_.timeout.count());
  }
  auto failure = std::move(slot.running->failure);
  lock.unlock();
  slot.running.reset();
  return failure;
}

void Readiness::refresh() {
  std::vector<CheckResult> results;
  for (auto& slot : slots_)
    results.push_back({slot.name, run_within_timeout(slot)});
  std::lock_guard lock(report_mutex_);
  results_ = std::move(results);
}

void Readiness::start() {
  refresh();
  refresher_ = std::thread([this] {
    std::unique_lock lock(stop_mutex_);
    while (!stop_changed_.wait_for(lock, timing_.refresh, [&] { return stopping_; })) {
      lock.unlock();
      refresh();
      lock.lock();
    }
  });
}

void Readiness::stop() {
  {
    std::lock_guard lock(stop_mutex_);
    stopping_ = true;
  }
  stop_changed_.notify_all();
  if (refresher_.joinable()) refresher_.join();
  // A check still running uses what the caller is about to destroy: give it its timeout.
  for (auto& slot : slots_) {
    if (!slot.running) continue;
    std::unique_lock lock(slot.running->mutex);
    slot.running->done_changed.wait_for(lock, timing_.timeout, [&] { return slot.running->done; });
  }
}

Readiness::Report Readiness::report() const {
  Report report;
  report.shutting_down = shutting_down_;
  report.ready = !report.shutting_down;
  std::lock_guard lock(report_mutex_);
  report.checks = results_;
  for (const auto& check : report.checks) {
    if (check.failure) report.ready = false;
  }
  return report;
}

}  // namespace esp::rest
