// One connection: wait for a request, read it under limits, route it, write
// the response, repeat. A session lives on one thread's io_context.
#include "api/http/session.h"

#include <array>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <optional>
#include <random>

#include "api/http/problem.h"
#include "observability/log.h"

namespace esp::http {
namespace beast = boost::beast;
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::string_view kRequestIdHeader = "X-Request-Id";
constexpr std::size_t kFirstReadBytes = 4096;
constexpr std::size_t kMaxRequestIdLength = 128;
constexpr std::chrono::milliseconds kLingerTime{2000};
constexpr std::size_t kLingerMaxBytes = 4U << 20;

bool is_valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxRequestIdLength) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
           c == ':';
  });
}

std::string generate_request_id() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (size_t half = 0; half < 2; ++half) {
    std::uint64_t bits = random();
    for (size_t i = 0; i < 16; ++i, bits >>= 4)
      id[half * 16 + i] = kHex[bits & 0xF];
  }
  return id;
}

// Status for a request that could not be read, or nullopt to just close.
std::optional<Status> status_for_read_error(const beast::error_code& ec, bool got_some) {
  if (ec == beast_http::error::header_limit) return Status::request_header_fields_too_large;
  if (ec == beast_http::error::body_limit) return Status::payload_too_large;
  if (ec == beast::error::timeout) {
    return got_some ? std::optional(Status::request_timeout) : std::nullopt;
  }
  if (ec.category() == beast_http::make_error_code(beast_http::error::bad_method).category() &&
      ec != beast_http::error::end_of_stream && ec != beast_http::error::partial_message) {
    return Status::bad_request;
  }
  return std::nullopt;
}

std::string read_error_detail(Status status, const Limits& limits) {
  switch (status) {
    case Status::request_header_fields_too_large:
      return "request headers exceed " + std::to_string(limits.max_header_bytes) + " bytes";
    case Status::payload_too_large:
      return "request body exceeds " + std::to_string(limits.max_body_bytes) + " bytes";
    case Status::request_timeout:
      return "request not received within " + std::to_string(limits.read_timeout.count()) + " ms";
    default:
      return "malformed HTTP request";
  }
}

}  // namespace

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(std::shared_ptr<Server::State> state, Socket socket)
      : state_(std::move(state)), socket_(std::move(socket)), timer_(socket_.get_executor()) {}

  ~Session() {
    std::lock_guard lock(state_->sessions_mutex);
    state_->sessions.erase(this);
    if (state_->sessions.empty()) state_->sessions_closed.notify_all();
    if (state_->accept_paused && state_->sessions.size() < state_->limits.max_connections) {
      state_->accept_paused = false;  // below the cap again: the accept loop goes on
      asio::post(state_->acceptor.get_executor(), [state = state_] { accept_next(state); });
    }
  }

  void start() {
    asio::dispatch(socket_.get_executor(),
                   [self = shared_from_this()] { self->wait_for_request(); });
  }

  void on_shutdown() {
    asio::dispatch(socket_.get_executor(), [self = shared_from_this()] {
      if (self->phase_ == Phase::kIdle) self->close();
    });
  }

 private:
  enum class Phase { kIdle, kReading, kHandling, kWriting, kClosing, kClosed };

  bool shutting_down() const { return state_->shutting_down.load(std::memory_order_acquire); }

  // One timer per connection. A deadline that moves later is an assignment
  // (the timer re-arms itself when it fires early); only one that moves
  // earlier touches the timer, so steady keep-alive traffic costs no timer
  // operations.
  void set_deadline(std::chrono::milliseconds timeout) {
    deadline_ = Clock::now() + timeout;
    if (deadline_ < armed_until_) arm_timer();
  }
  void clear_deadline() { deadline_ = Clock::time_point::max(); }

  void arm_timer() {
    armed_until_ = deadline_;
    timer_.expires_at(deadline_);  // cancels a pending wait, whose handler then returns
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->phase_ == Phase::kClosed) return;
      self->armed_until_ = Clock::time_point::max();
      if (self->deadline_ == Clock::time_point::max()) return;
      if (Clock::now() < self->deadline_) return self->arm_timer();
      self->on_deadline();
    });
  }

  void on_deadline() {
    if (phase_ == Phase::kReading) {
      read_timed_out_ = true;  // cancel the read but keep the socket for the 408
      beast::error_code ignored;
      socket_.cancel(ignored);
    } else {
      close();
    }
  }

  // Idle until the first byte of the next request, under the idle timeout;
  // pipelined requests already buffered skip the wait.
  void wait_for_request() {
    if (shutting_down()) return close();
    if (buffer_.size() > 0) return read_request();
    phase_ = Phase::kIdle;
    set_deadline(state_->limits.idle_timeout);
    socket_.async_read_some(buffer_.prepare(kFirstReadBytes),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              if (ec) return self->close();
                              self->buffer_.commit(n);
                              self->read_request();
                            });
  }

  void read_request() {
    phase_ = Phase::kReading;
    started_ = Clock::now();
    state_->observer.on_request_started();
    parser_.emplace();
    parser_->header_limit(state_->limits.max_header_bytes);
    parser_->body_limit(state_->limits.max_body_bytes);
    read_timed_out_ = false;
    set_deadline(state_->limits.read_timeout);
    beast_http::async_read(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    clear_deadline();
    if (read_timed_out_) ec = beast::error::timeout;
    if (ec) {
      const auto status = status_for_read_error(ec, buffer_.size() > 0 || parser_->got_some());
      if (!status) {
        state_->observer.on_request_abandoned();
        return close();
      }
      request_.raw = {};
      request_.path = {};
      request_.route = {};
      request_.request_id = generate_request_id();
      close_after_response_ = true;
      return send(problem_response(
          {.status = *status, .detail = read_error_detail(*status, state_->limits)},
          request_.request_id));
    }
    phase_ = Phase::kHandling;
    dispatch_request();
  }

  void dispatch_request() {
    request_.raw = parser_->release();
    const std::string_view target = request_.raw.target();
    const size_t question = target.find('?');
    request_.path = target.substr(0, question);
    request_.query =
        question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);
    request_.route = {};
    request_.params.clear();
    request_.subject.clear();
    request_.socket = socket_.native_handle();
    const std::string_view incoming_id = request_.raw[kRequestIdHeader];
    request_.request_id =
        is_valid_request_id(incoming_id) ? std::string(incoming_id) : generate_request_id();
    close_after_response_ = !request_.raw.keep_alive();

    auto outcome = state_->router.match(request_.raw.method(), request_.path);
    if (auto* found = std::get_if<Router::Match>(&outcome)) {
      request_.route = found->pattern;
      request_.params = std::move(found->params);
      invoke(*found->handler);
    } else if (auto* not_allowed = std::get_if<Router::MethodNotAllowed>(&outcome)) {
      auto response =
          problem_response({.status = Status::method_not_allowed,
                            .detail = std::string(request_.raw.method_string()) +
                                      " is not allowed on " + std::string(request_.path)},
                           request_.request_id);
      response.set(beast_http::field::allow, not_allowed->allow);
      send(std::move(response));
    } else {
      send(problem_response(
          {.status = Status::not_found, .detail = "no resource at " + std::string(request_.path)},
          request_.request_id));
    }
  }

  void invoke(const Handler& handler) {
    auto respond = [self = shared_from_this()](Response response) {
      asio::dispatch(
          self->socket_.get_executor(),
          [self, response = std::move(response)]() mutable { self->send(std::move(response)); });
    };
    try {
      handler(request_, std::move(respond));
    } catch (const std::exception& e) {
      log::error(
          "handler_failed",
          {{"path", request_.path}, {"error", e.what()}, {"request_id", request_.request_id}});
      send(problem_response({.status = Status::internal_server_error,
                             .detail = "unexpected error; quote the request id when reporting it"},
                            request_.request_id));
    }
  }

  void send(Response response) {
    if (phase_ != Phase::kHandling && phase_ != Phase::kReading) return;  // answered twice
    phase_ = Phase::kWriting;
    response_ = std::move(response);
    response_.version(request_.raw.version() == 10 ? 10 : 11);
    response_.set(kRequestIdHeader, request_.request_id);
    response_.keep_alive(!close_after_response_ && !shutting_down());
    response_.prepare_payload();
    response_body_bytes_ = response_.body().size();
    const bool head = request_.raw.method() == Verb::head;
    if (head) {
      response_.body().clear();
      response_.content_length(response_body_bytes_);
    }
    set_deadline(state_->limits.idle_timeout);
    serializer_.emplace(response_);
    auto on_written = [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->on_write(ec);
    };
    if (head) {
      beast_http::async_write_header(socket_, *serializer_, std::move(on_written));
    } else {
      beast_http::async_write(socket_, *serializer_, std::move(on_written));
    }
  }

  void on_write(beast::error_code ec) {
    record_exchange();
    const bool keep_alive = response_.keep_alive();
    serializer_.reset();
    response_ = {};
    if (ec) return close();
    if (!keep_alive) return linger_close();
    wait_for_request();
  }

  void record_exchange() {
    Exchange exchange;
    exchange.method = request_.raw.method_string();
    exchange.path = request_.path;
    exchange.route = request_.route;
    exchange.status = response_.result_int();
    exchange.duration = Clock::now() - started_;
    exchange.request_id = request_.request_id;
    exchange.subject = request_.subject;
    exchange.request_body_bytes = request_.raw.body().size();
    exchange.response_body_bytes = response_body_bytes_;
    state_->observer.on_exchange(exchange);
  }

  // Half-close and drain what the client still sends, so an early error
  // response (413 with the body still coming) is not lost to a TCP reset.
  void linger_close() {
    phase_ = Phase::kClosing;
    beast::error_code ignored;
    socket_.shutdown(asio::socket_base::shutdown_send, ignored);
    set_deadline(kLingerTime);
    drain();
  }

  void drain() {
    socket_.async_read_some(asio::buffer(scratch_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->drained_bytes_ += n;
                              if (ec || self->drained_bytes_ > kLingerMaxBytes) {
                                return self->close();
                              }
                              self->drain();
                            });
  }

  void close() {
    if (phase_ == Phase::kClosed) return;
    phase_ = Phase::kClosed;
    beast::error_code ignored;
    timer_.cancel();
    socket_.shutdown(asio::socket_base::shutdown_both, ignored);
    socket_.close(ignored);
  }

  using Timer =
      asio::basic_waitable_timer<Clock, asio::wait_traits<Clock>, asio::io_context::executor_type>;

  std::shared_ptr<Server::State> state_;
  Socket socket_;
  Timer timer_;
  Clock::time_point deadline_ = Clock::time_point::max();
  Clock::time_point armed_until_ = Clock::time_point::max();
  bool read_timed_out_ = false;
  beast::flat_buffer buffer_;
  std::optional<beast_http::request_parser<beast_http::string_body>> parser_;
  Request request_;
  Response response_;
  std::optional<beast_http::response_serializer<ResponseBody>> serializer_;
  std::size_t response_body_bytes_ = 0;
  bool close_after_response_ = false;
  Phase phase_ = Phase::kIdle;
  Clock::time_point started_;
  std::array<char, 16384> scratch_{};
  std::size_t drained_bytes_ = 0;
};

void start_session(const std::shared_ptr<Server::State>& state, Socket socket) {
  auto session = std::make_shared<Session>(state, std::move(socket));
  {
    std::lock_guard lock(state->sessions_mutex);
    state->sessions.emplace(session.get(), session);
  }
  session->start();
  // A shutdown that began while this connection was being accepted.
  if (state->shutting_down.load(std::memory_order_acquire)) session->on_shutdown();
}

void notify_shutdown(const std::shared_ptr<Session>& session) {
  session->on_shutdown();
}

}  // namespace esp::http
