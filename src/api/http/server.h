// HTTP/1.1 server on Boost.Beast: keep-alive, pipelining (answered in order),
// limits with problem+json errors, and a graceful shutdown that lets
// in-flight requests finish while idle connections close.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "api/http/io_pool.h"
#include "api/http/router.h"
#include "config/http_limits.h"
#include "core/error.h"

namespace esp::http {

// One answered request, as the access log and the metrics see it.
struct Exchange {
  std::string_view method;
  std::string_view path;
  std::string_view route;  // empty when no route matched
  unsigned status = 0;
  std::chrono::nanoseconds duration{0};
  std::string_view request_id;
  std::string_view subject;
  std::uint64_t request_body_bytes = 0;
  std::uint64_t response_body_bytes = 0;
};

class ExchangeObserver {
 public:
  virtual ~ExchangeObserver() = default;
  // A request's first byte arrived.
  virtual void on_request_started() = 0;
  // The client went away before the request was complete.
  virtual void on_request_abandoned() = 0;
  // A response was written (or failed to be).
  virtual void on_exchange(const Exchange& exchange) = 0;
};

class Server {
 public:
  Server(IoPool& pool, Limits limits, const Router& router, ExchangeObserver& observer);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts accepting; port 0 picks a free port.
  Result<boost::asio::ip::tcp::endpoint> listen(const std::string& host, std::uint16_t port);

  // Stops accepting, closes idle connections and asks the others to close
  // after their current response.
  void begin_shutdown();
  // True once every connection is closed, false if `timeout` passed first.
  bool wait_until_drained(std::chrono::milliseconds timeout);
  std::size_t open_connections() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace esp::http
