// Splits index ranges over threads. Callers make results independent of the split.
#pragma once

#include <cstddef>
#include <functional>

namespace esp::evolution {

// Calls body(begin, end) on disjoint ranges covering [0, count), on up to `threads`
// threads (the caller's included), and rethrows the first exception after all finish.
void parallel_for(std::size_t count, unsigned threads,
                  const std::function<void(std::size_t begin, std::size_t end)>& body);

// Every core for `count` items once there are `enough` of them, else one thread: below
// that, starting threads costs more than the work.
unsigned threads_for(std::size_t count, std::size_t enough);

// One thread for each `per_thread` items of `work`, from 1 to `most`: work that grows
// with its input (a generation's weights), so that a small one starts few threads.
unsigned threads_for_work(std::size_t work, std::size_t per_thread, unsigned most);

}  // namespace esp::evolution
