#include "api/http/server.h"

#include <cerrno>

#include "api/http/session.h"
#include "observability/log.h"

namespace esp::http {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// Out of descriptors (EMFILE, ENFILE) or kernel memory: accepting again at once would
// spin on the same error, so wait for connections to close.
constexpr std::chrono::milliseconds kAcceptBackoff{100};

bool out_of_resources(const boost::system::error_code& ec) {
  return ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
         ec == asio::error::no_memory || ec.value() == ENFILE;
}

void accept_later(const std::shared_ptr<Server::State>& state) {
  state->accept_backoff.expires_after(kAcceptBackoff);
  state->accept_backoff.async_wait([state](boost::system::error_code) { accept_next(state); });
}

// Whether the cap is reached; if so accepting pauses until a session ends.
bool pause_at_cap(Server::State& state) {
  std::lock_guard lock(state.sessions_mutex);
  if (state.sessions.size() < state.limits.max_connections) return false;
  state.accept_paused = true;
  return true;
}

}  // namespace

void accept_next(const std::shared_ptr<Server::State>& state) {
  if (!state->acceptor.is_open() || pause_at_cap(*state)) return;
  state->acceptor.async_accept(state->pool.next(), [state](boost::system::error_code ec,
                                                           Socket socket) {
    if (ec == asio::error::operation_aborted || !state->acceptor.is_open()) return;
    if (!ec) {
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      start_session(state, std::move(socket));
    } else if (out_of_resources(ec)) {
      log::warn("accept_backing_off", {{"error", ec.message()}, {"ms", kAcceptBackoff.count()}});
      return accept_later(state);
    } else {
      log::warn("accept_failed", {{"error", ec.message()}});
    }
    accept_next(state);
  });
}

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
