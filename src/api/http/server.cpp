#include "api/http/server.h"

#include "api/http/session.h"
#include "observability/log.h"

namespace esp::http {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

void accept_next(const std::shared_ptr<Server::State>& state) {
  state->acceptor.async_accept(
      state->pool.next(), [state](boost::system::error_code ec, Socket socket) {
        if (ec == asio::error::operation_aborted || !state->acceptor.is_open()) return;
        if (!ec) {
          boost::system::error_code ignored;
          socket.set_option(tcp::no_delay(true), ignored);
          start_session(state, std::move(socket));
        } else {
          log::warn("accept_failed", {{"error", ec.message()}});
        }
        accept_next(state);
      });
}

}  // namespace

Server::Server(IoPool& pool, Limits limits, const Router& router, ExchangeObserver& observer)
    : state_(std::make_shared<State>(pool, limits, router, observer)) {}

Server::~Server() {
  boost::system::error_code ignored;
  state_->acceptor.close(ignored);
}

Result<tcp::endpoint> Server::listen(const std::string& host, std::uint16_t port) {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) return Error{Code::kInvalidArgument, "not an IP address: '" + host + "'"};
  const tcp::endpoint endpoint{address, port};
  auto& acceptor = state_->acceptor;
  const auto fail = [&](std::string_view what) {
    return Error{Code::kUnavailable, "cannot " + std::string(what) + " " + host + ":" +
                                         std::to_string(port) + ": " + ec.message()};
  };
  if (acceptor.open(endpoint.protocol(), ec); ec) return fail("open");
  if (acceptor.set_option(asio::socket_base::reuse_address(true), ec); ec) return fail("configure");
  if (acceptor.bind(endpoint, ec); ec) return fail("bind");
  if (acceptor.listen(asio::socket_base::max_listen_connections, ec); ec) return fail("listen on");
  const auto bound = acceptor.local_endpoint(ec);
  if (ec) return fail("read the address of");
  accept_next(state_);
  return bound;
}

void Server::begin_shutdown() {
  state_->shutting_down.store(true, std::memory_order_release);
  asio::post(state_->acceptor.get_executor(), [state = state_] {
    boost::system::error_code ignored;
    state->acceptor.close(ignored);
  });
  std::vector<std::shared_ptr<Session>> open;
  {
    std::lock_guard lock(state_->sessions_mutex);
    for (auto& [raw, weak] : state_->sessions) {
      if (auto session = weak.lock()) open.push_back(std::move(session));
    }
  }
  for (const auto& session : open)
    notify_shutdown(session);
}

bool Server::wait_until_drained(std::chrono::milliseconds timeout) {
  std::unique_lock lock(state_->sessions_mutex);
  return state_->sessions_closed.wait_for(lock, timeout, [&] { return state_->sessions.empty(); });
}

std::size_t Server::open_connections() const {
  std::lock_guard lock(state_->sessions_mutex);
  return state_->sessions.size();
}

}  // namespace esp::http
