// Who is calling a gRPC method: the bearer token in the `authorization` metadata, or,
// only when the operator allows it, an anonymous caller on loopback (older SDK clients
// that carry no token).
#pragma once

#include <grpcpp/server_context.h>

#include <optional>
#include <string>

#include "auth/claims.h"
#include "auth/verifier.h"
#include "core/error.h"
#include "population/experiments.h"

namespace esp::grpcapi {

class CallAuthenticator {
 public:
  CallAuthenticator(const auth::Verifier& verifier, bool allow_anonymous_loopback)
      : verifier_(verifier), allow_anonymous_loopback_(allow_anonymous_loopback) {}

  // kUnauthenticated without a valid token, kPermissionDenied without `scope` (empty: any
  // valid token). `subject` names the caller as soon as it is known, for the call's log.
  Result<population::Caller> authenticate(const grpc::ServerContextBase& context,
                                          std::optional<auth::Scope> scope,
                                          std::string& subject) const;

 private:
  const auth::Verifier& verifier_;
  bool allow_anonymous_loopback_;
};

// "ipv4:127.0.0.1:5000", "ipv6:[::1]:5000" and "unix:..." peers are this machine.
bool is_loopback_peer(std::string_view peer);

}  // namespace esp::grpcapi
