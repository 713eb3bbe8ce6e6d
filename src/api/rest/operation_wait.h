// GET /v1/operations/{id}?wait=SECONDS: answers when the operation ends or the wait is
// over, whichever comes first, without holding a thread. A job ending in this process
// wakes it at once; jobs on other replicas are seen by re-reading every second.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <functional>

#include "api/http/message.h"
#include "population/generations.h"
#include "population/job_board.h"

namespace esp::rest {

// `answer` turns the latest read of the operation into the response.
using OperationAnswer = std::function<http::Response(const Result<store::Job>&)>;

void wait_for_operation(boost::asio::thread_pool& pool, population::Generations& generations,
                        population::JobBoard& board, population::Caller caller,
                        std::string operation_id, std::chrono::steady_clock::time_point deadline,
                        OperationAnswer answer, http::Respond respond);

}  // namespace esp::rest
