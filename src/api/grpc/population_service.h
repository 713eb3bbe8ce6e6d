// The ESP SDK's PopulationService over gRPC: authenticates the call, then hands it to
// the population use cases (the same ones REST uses).
#pragma once

#include "auth/verifier.h"
#include "population/generations.h"
#include "population_service.grpc.pb.h"

namespace esp::grpcapi {

class PopulationService final : public ::population::PopulationService::Service {
 public:
  PopulationService(population::Generations& generations, const auth::Verifier& verifier,
                    std::size_t max_message_bytes)
      : generations_(generations), verifier_(verifier), max_message_bytes_(max_message_bytes) {}

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
  Result<population::Caller> authenticate(const grpc::ServerContext& context, auth::Scope scope,
                                          std::string& subject) const;
  grpc::Status answer(const ::population::PopulationResponse& population,
                      ::population::PopulationResponse* response) const;

  population::Generations& generations_;
  const auth::Verifier& verifier_;
  std::size_t max_message_bytes_;
};

// The gRPC status for an esp error.
grpc::Status status_of(const Error& error);

}  // namespace esp::grpcapi
