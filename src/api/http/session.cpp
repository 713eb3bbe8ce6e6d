// One connection: wait for a request, read it under limits, route it, write
// the response, repeat. All of a session's work runs on its strand.
#include "api/http/session.h"

#include <array>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
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
constexpr std::chrono::seconds kLingerTime{2};
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
  Session(std::shared_ptr<Server::State> state, asio::ip::tcp::socket socket)
      : state_(std::move(state)),
        stream_(std::move(socket)),
        read_deadline_(stream_.get_executor()) {}

  ~Session() {
    std::lock_guard lock(state_->sessions_mutex);
    state_->sessions.erase(this);
    if (state_->sessions.empty()) state_->sessions_closed.notify_all();
  }

  void start() {
    asio::dispatch(stream_.get_executor(),
                   [self = shared_from_this()] { self->wait_for_request(); });
  }

  void on_shutdown() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      if (self->phase_ == Phase::kIdle) self->stream_.cancel();
    });
  }

 private:
  enum class Phase { kIdle, kReading, kHandling, kWriting, kClosing };

  bool shutting_down() const { return state_->shutting_down.load(std::memory_order_acquire); }

  // Idle until the first byte of the next request, under the idle timeout;
  // pipelined requests already buffered skip the wait.
  void wait_for_request() {
    if (shutting_down()) return close();
    if (buffer_.size() > 0) return read_request();
    phase_ = Phase::kIdle;
    stream_.expires_after(state_->limits.idle_timeout);
    stream_.async_read_some(buffer_.prepare(kFirstReadBytes),
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
    start_read_deadline();
    beast_http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  // tcp_stream's own timeout closes the socket; this one only cancels the
  // read, so the client can still be told 408.
  void start_read_deadline() {
    stream_.expires_never();
    read_timed_out_ = false;
    read_deadline_.expires_after(state_->limits.read_timeout);
    read_deadline_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->phase_ != Phase::kReading) return;
      self->read_timed_out_ = true;
      beast::error_code ignored;
      self->stream_.socket().cancel(ignored);
    });
  }

  void on_read(beast::error_code ec) {
    read_deadline_.cancel();
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
          self->stream_.get_executor(),
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
    if (phase_ == Phase::kWriting || phase_ == Phase::kClosing) return;  // answered twice
    phase_ = Phase::kWriting;
    response_ = std::move(response);
    response_.version(request_.raw.version() == 10 ? 10 : 11);
    response_.set(kRequestIdHeader, request_.request_id);
    response_.keep_alive(!close_after_response_ && !shutting_down());
    response_.prepare_payload();
    response_body_bytes_ = response_.body().size();
    if (request_.raw.method() == Verb::head) {
      response_.body().clear();
      response_.content_length(response_body_bytes_);
    }
    stream_.expires_after(state_->limits.idle_timeout);
    serializer_.emplace(response_);
    if (request_.raw.method() == Verb::head) serializer_->split(true);
    write_response();
  }

  void write_response() {
    const bool head = request_.raw.method() == Verb::head;
    auto on_written = [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->on_write(ec);
    };
    if (head) {
      beast_http::async_write_header(stream_, *serializer_, std::move(on_written));
    } else {
      beast_http::async_write(stream_, *serializer_, std::move(on_written));
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
    stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    stream_.expires_after(kLingerTime);
    drain();
  }

  void drain() {
    stream_.async_read_some(asio::buffer(scratch_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->drained_bytes_ += n;
                              if (ec || self->drained_bytes_ > kLingerMaxBytes)
                                return self->close();
                              self->drain();
                            });
  }

  void close() {
    phase_ = Phase::kClosing;
    beast::error_code ignored;
    stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  std::shared_ptr<Server::State> state_;
  beast::tcp_stream stream_;
  asio::steady_timer read_deadline_;
  bool read_timed_out_ = false;
  beast::flat_buffer buffer_;
  std::optional<beast_http::request_parser<beast_http::string_body>> parser_;
  Request request_;
  Response response_;
  std::optional<beast_http::response_serializer<beast_http::string_body>> serializer_;
  std::size_t response_body_bytes_ = 0;
  bool close_after_response_ = false;
  Phase phase_ = Phase::kIdle;
  Clock::time_point started_;
  std::array<char, 16384> scratch_{};
  std::size_t drained_bytes_ = 0;
};

void start_session(const std::shared_ptr<Server::State>& state, asio::ip::tcp::socket socket) {
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
