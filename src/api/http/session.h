// Internal to the HTTP server: shared state and the per-connection session.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "api/http/server.h"

namespace esp::http {

class Session;

// A socket bound to one thread's io_context.
using Socket =
    boost::asio::basic_stream_socket<boost::asio::ip::tcp, boost::asio::io_context::executor_type>;

struct Server::State {
  State(IoPool& io_pool, Limits l, const Router& r, ExchangeObserver& o)
      : pool(io_pool),
        acceptor(io_pool.first()),
        accept_backoff(io_pool.first()),
        limits(l),
        router(r),
        observer(o) {}

  IoPool& pool;
  boost::asio::ip::tcp::acceptor acceptor;
  // Made at start: out of descriptors, a new timer could not be made (asio's first timer
  // opens a timerfd).
  boost::asio::steady_timer accept_backoff;
  const Limits limits;
  const Router& router;
  ExchangeObserver& observer;
  std::atomic<bool> shutting_down{false};
  // Set while accepting waits for a connection to close (max_connections) or for
  // descriptors to come back (EMFILE); the acceptor's executor owns the accept loop.
  bool accept_paused = false;  // guarded by sessions_mutex

  mutable std::mutex sessions_mutex;
  std::condition_variable sessions_closed;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;
};

void start_session(const std::shared_ptr<Server::State>& state, Socket socket);
// Accepts the next connection (the server's accept loop).
void accept_next(const std::shared_ptr<Server::State>& state);
// Posted to each open session when the server begins its shutdown.
void notify_shutdown(const std::shared_ptr<Session>& session);

}  // namespace esp::http
