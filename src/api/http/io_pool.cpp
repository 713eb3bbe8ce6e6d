#include "api/http/io_pool.h"

namespace esp::http {

IoPool::IoPool(unsigned threads) {
  for (unsigned i = 0; i < std::max(1U, threads); ++i) {
    contexts_.push_back(std::make_unique<boost::asio::io_context>(1));
    guards_.emplace_back(contexts_.back()->get_executor());
  }
}

IoPool::~IoPool() {
  stop();
}

boost::asio::io_context& IoPool::next() {
  return *contexts_[next_.fetch_add(1, std::memory_order_relaxed) % contexts_.size()];
}

void IoPool::start() {
  for (auto& context : contexts_)
    threads_.emplace_back([&io = *context] { io.run(); });
}

void IoPool::stop() {
  guards_.clear();
  for (auto& context : contexts_)
    context->stop();
  threads_.clear();
}

}  // namespace esp::http
