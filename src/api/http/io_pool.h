// One io_context per thread: connections are spread round-robin and each is
// served by one thread, so sessions need no strand and contexts no locks.
#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <thread>
#include <vector>

namespace esp::http {

class IoPool {
 public:
  explicit IoPool(unsigned threads);
  ~IoPool();
  IoPool(const IoPool&) = delete;
  IoPool& operator=(const IoPool&) = delete;

  boost::asio::io_context& first() { return *contexts_.front(); }
  boost::asio::io_context& next();

  void start();
  // Stops every context and joins the threads.
  void stop();

 private:
  using WorkGuard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<WorkGuard> guards_;
  std::vector<std::jthread> threads_;
  std::atomic<std::size_t> next_{0};
};

}  // namespace esp::http
