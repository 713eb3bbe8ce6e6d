// One log line per gRPC call, like the HTTP access log: method, status code, time,
// experiment, caller, and the deployment colour the client asked for.
#pragma once

#include <grpcpp/server_context.h>
#include <grpcpp/support/status.h>

#include <chrono>
#include <string>
#include <string_view>

#include "observability/log.h"

namespace esp::grpcapi {

// The `service_select` metadata (blue, green) of the call, empty when absent.
inline std::string service_select_of(const grpc::ServerContextBase& context) {
  const auto& metadata = context.client_metadata();
  auto found = metadata.find("service_select");
  return found == metadata.end() ? std::string()
                                 : std::string(found->second.data(), found->second.size());
}

// A call from its start; what it learns on the way (experiment, caller) is logged with its
// status when it ends.
class CallLog {
 public:
  explicit CallLog(std::string_view method) : method_(method) {}

  std::string experiment;
  std::string subject;

  void ended(const grpc::ServerContextBase& context, const grpc::Status& status) const {
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_)
            .count();
    log::info("grpc_call", {{"method", method_},
                            {"code", static_cast<int>(status.error_code())},
                            {"duration_ms", ms},
                            {"experiment", experiment},
                            {"subject", subject},
                            {"service_select", service_select_of(context)}});
  }

 private:
  std::string_view method_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

// Runs `call(subject)`, which sets the subject once the caller is known, and logs it.
template <typename Call>
grpc::Status logged_call(const grpc::ServerContextBase& context, std::string_view method,
                         const std::string& experiment, Call call) {
  CallLog log(method);
  log.experiment = experiment;
  grpc::Status status = call(log.subject);
  log.ended(context, status);
  return status;
}

}  // namespace esp::grpcapi
