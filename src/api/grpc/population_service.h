// The ESP SDK's PopulationService over gRPC: authenticates the call, then hands it to
// the population use cases (the same ones REST uses).
#pragma once

#include "api/grpc/call_auth.h"
#include "population/generations.h"
#include "population_service.grpc.pb.h"

namespace esp::grpcapi {

class PopulationService final : public ::population::PopulationService::Service {
 public:
  PopulationService(population::Generations& generations, const CallAuthenticator& auth,
                    std::size_t max_message_bytes)
      : generations_(generations), auth_(auth), max_message_bytes_(max_message_bytes) {}

  grpc::Status NextPopulation(grpc::ServerContext* context,
                              const ::population::PopulationRequest* request,
                              ::population::PopulationResponse* response) override;
  grpc::Status GetPopulation(grpc::ServerContext* context,
                             const ::population::ExistingPopulationRequest* request,
                             ::population::PopulationResponse* response) override;

 private:
  // The calls themselves; `subject` names the caller once authenticated, for the log.
  grpc::Status next_population(std::string& subject, grpc::ServerContext* context,
                               const ::population::PopulationRequest* request,
                               ::population::PopulationResponse* response);
  grpc::Status get_population(std::string& subject, grpc::ServerContext* context,
                              const ::population::ExistingPopulationRequest* request,
                              ::population::PopulationResponse* response);
  grpc::Status answer(::population::PopulationResponse&& population,
                      ::population::PopulationResponse* response) const;

  population::Generations& generations_;
  const CallAuthenticator& auth_;
  std::size_t max_message_bytes_;
};

// The gRPC status for an esp error.
grpc::Status status_of(const Error& error);

}  // namespace esp::grpcapi
