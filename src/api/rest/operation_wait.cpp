#include "api/rest/operation_wait.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <memory>

namespace esp::rest {
namespace {

namespace asio = boost::asio;

constexpr auto kReread = std::chrono::seconds(1);

bool has_ended(const Result<store::Job>& job) {
  return !job.ok() ||
         (job->status != store::JobStatus::kQueued && job->status != store::JobStatus::kRunning);
}

// One pending long-poll. Every step runs on its strand; the timer is the only thing that
// schedules a check, and the board's wake-up cancels it, so checks never overlap.
class OperationWait : public std::enable_shared_from_this<OperationWait> {
 public:
  OperationWait(asio::thread_pool& pool, population::Generations& generations,
                population::JobBoard& board, population::Caller caller, std::string id,
                std::chrono::steady_clock::time_point deadline, OperationAnswer answer,
                http::Respond respond)
      : strand_(asio::make_strand(pool)),
        timer_(strand_),
        generations_(generations),
        board_(board),
        caller_(std::move(caller)),
        id_(std::move(id)),
        deadline_(deadline),
        answer_(std::move(answer)),
        respond_(std::move(respond)) {}

  void start() {
    asio::post(strand_, [self = shared_from_this()] { self->check(); });
  }

 private:
  void check() {
    const auto seen = board_.ended_count();
    auto job = generations_.operation(caller_, id_);
    const auto now = std::chrono::steady_clock::now();
    if (has_ended(job) || now >= deadline_ || board_.closed()) {
      respond_(answer_(job));
      return;
    }
    if (!subscribed_) {
      subscribed_ = true;
      board_.on_ended(seen, [self = shared_from_this()] {
        asio::post(self->strand_, [self] {
          self->subscribed_ = false;
          self->timer_.cancel();
        });
      });
    }
    timer_.expires_at(std::min(deadline_, now + kReread));
    timer_.async_wait(
        [self = shared_from_this()](const boost::system::error_code&) { self->check(); });
  }

  asio::strand<asio::thread_pool::executor_type> strand_;
  asio::steady_timer timer_;
  population::Generations& generations_;
  population::JobBoard& board_;
  population::Caller caller_;
  std::string id_;
  std::chrono::steady_clock::time_point deadline_;
  OperationAnswer answer_;
  http::Respond respond_;
  bool subscribed_ = false;
};

}  // namespace

void wait_for_operation(asio::thread_pool& pool, population::Generations& generations,
                        population::JobBoard& board, population::Caller caller,
                        std::string operation_id, std::chrono::steady_clock::time_point deadline,
                        OperationAnswer answer, http::Respond respond) {
  std::make_shared<OperationWait>(pool, generations, board, std::move(caller),
                                  std::move(operation_id), deadline, std::move(answer),
                                  std::move(respond))
      ->start();
}

}  // namespace esp::rest
