#include "evolution/parallel.h"

#include <algorithm>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace esp::evolution {

void parallel_for(std::size_t count, unsigned threads,
                  const std::function<void(std::size_t, std::size_t)>& body) {
  const std::size_t workers = std::clamp<std::size_t>(threads, 1, std::max<std::size_t>(count, 1));
  if (workers == 1) {
    body(0, count);
    return;
  }
  std::exception_ptr failure;
  std::mutex failure_mutex;
  auto run = [&](std::size_t worker) {
    try {
      body(count * worker / workers, count * (worker + 1) / workers);
    } catch (...) {
      std::lock_guard lock(failure_mutex);
      if (!failure) failure = std::current_exception();
    }
  };
  {
    std::vector<std::jthread> pool;
    pool.reserve(workers - 1);
    for (std::size_t worker = 1; worker < workers; ++worker)
      pool.emplace_back(run, worker);
    run(0);
  }
  if (failure) std::rethrow_exception(failure);
}

unsigned threads_for(std::size_t count, std::size_t enough) {
  return count >= enough ? std::max(1U, std::thread::hardware_concurrency()) : 1;
}

unsigned threads_for_work(std::size_t work, std::size_t per_thread, unsigned most) {
  const std::size_t wanted = work / std::max<std::size_t>(per_thread, 1);
  return static_cast<unsigned>(std::clamp<std::size_t>(wanted, 1, std::max(most, 1U)));
}

}  // namespace esp::evolution
