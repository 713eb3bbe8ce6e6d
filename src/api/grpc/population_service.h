// The ESP SDK's PopulationService over gRPC: authenticates the call, then hands it to
// the population use cases (the same ones REST uses).
//
// Both methods take and answer raw bytes (gRPC's callback API): a NextPopulation request
// is read for its ids and metrics alone (population_request.h), and a population is
// answered from the bytes a worker stored or serialized, handed to gRPC without a copy.
// At P=100,000 that is a 490 MB message parsed, built and serialized once less each way.
// The work runs on `pool`, never on gRPC's threads: it touches storage, and a token may
// need its issuer's keys fetched.
#pragma once

#include <boost/asio/thread_pool.hpp>

#include "api/grpc/call_auth.h"
#include "population/generations.h"
#include "population_service.grpc.pb.h"

namespace esp::grpcapi {

using RawPopulationService = ::population::PopulationService::WithRawCallbackMethod_NextPopulation<
    ::population::PopulationService::WithRawCallbackMethod_GetPopulation<
        ::population::PopulationService::Service>>;

class PopulationService final : public RawPopulationService {
 public:
  PopulationService(population::Generations& generations, const CallAuthenticator& auth,
                    boost::asio::thread_pool& pool, std::size_t max_message_bytes)
      : generations_(generations),
        auth_(auth),
        pool_(pool),
        max_message_bytes_(max_message_bytes) {}

  grpc::ServerUnaryReactor* NextPopulation(grpc::CallbackServerContext* context,
                                           const grpc::ByteBuffer* request,
                                           grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetPopulation(grpc::CallbackServerContext* context,
                                          const grpc::ByteBuffer* request,
                                          grpc::ByteBuffer* response) override;

 private:
  class Call;
  // Starts a call whose `work(call)` runs on the pool and finishes it.
  template <typename Work>
  grpc::ServerUnaryReactor* start(grpc::CallbackServerContext* context, grpc::ByteBuffer* response,
                                  std::string_view method, Work work);
  void next_population(std::shared_ptr<Call> call, grpc::ByteBuffer& request);
  void get_population(Call& call, const grpc::ByteBuffer& request);

  population::Generations& generations_;
  const CallAuthenticator& auth_;
  boost::asio::thread_pool& pool_;
  std::size_t max_message_bytes_;
};

// The gRPC status for an esp error.
grpc::Status status_of(const Error& error);

// `bytes` as a gRPC message body, a slice per piece, without a copy: the buffer keeps
// them alive.
grpc::ByteBuffer message_of(population::SharedBytes bytes);

}  // namespace esp::grpcapi
