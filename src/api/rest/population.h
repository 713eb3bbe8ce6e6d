// The population service over REST: experiments, generation operations and checkpoints
// (api/openapi.yaml). Handlers run on `pool`, off the I/O threads, because they touch
// storage; long-polls hold no thread while they wait.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <chrono>

#include "api/http/router.h"
#include "auth/verifier.h"
#include "population/experiments.h"
#include "population/generations.h"

namespace esp::rest {

struct PopulationServices {
  const auth::Verifier& verifier;
  population::ExperimentRecords& records;
  population::Generations& generations;
  boost::asio::thread_pool& pool;
  std::chrono::seconds longest_wait{60};
};

void add_population_routes(http::Router& router, PopulationServices& services);

}  // namespace esp::rest
