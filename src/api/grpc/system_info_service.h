// The ESP SDK's SystemInfoService: what this espd is (version, build, uptime) and which
// deployment colour it serves, for clients that route with `service_select`.
#pragma once

#include <chrono>
#include <string>

#include "api/grpc/call_auth.h"
#include "system_info_service.grpc.pb.h"

namespace esp::grpcapi {

struct SystemIdentity {
  std::string version;
  std::string build;
  std::string color;
  std::chrono::steady_clock::time_point started_at = std::chrono::steady_clock::now();
};

class SystemInfoService final : public ::population::SystemInfoService::Service {
 public:
  SystemInfoService(SystemIdentity identity, const CallAuthenticator& auth)
      : identity_(std::move(identity)), auth_(auth) {}

  // Any valid token may ask.
  grpc::Status GetSystemInfo(grpc::ServerContext* context,
                             const ::population::SystemInfoRequest* request,
                             ::population::SystemInfoResponse* response) override;

 private:
  SystemIdentity identity_;
  const CallAuthenticator& auth_;
};

}  // namespace esp::grpcapi
