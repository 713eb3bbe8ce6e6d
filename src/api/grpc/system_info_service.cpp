#include "api/grpc/system_info_service.h"

#include "api/grpc/call_log.h"
#include "api/grpc/population_service.h"

namespace esp::grpcapi {

grpc::Status SystemInfoService::GetSystemInfo(grpc::ServerContext* context,
                                              const ::population::SystemInfoRequest* /*request*/,
                                              ::population::SystemInfoResponse* response) {
  return logged_call(*context, "GetSystemInfo", "", [&](std::string& subject) {
    auto caller = auth_.authenticate(*context, std::nullopt, subject);
    if (!caller.ok()) return status_of(caller.error());
    response->set_service_name("espd");
    response->set_version(identity_.version);
    response->set_build(identity_.build);
    response->set_uptime_seconds(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - identity_.started_at)
            .count());
    response->set_color(identity_.color);
    response->set_service_select(service_select_of(*context));
    return grpc::Status::OK;
  });
}

}  // namespace esp::grpcapi
