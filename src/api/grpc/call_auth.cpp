#include "api/grpc/call_auth.h"

#include "auth/authorization.h"

namespace esp::grpcapi {

bool is_loopback_peer(std::string_view peer) {
  return peer.starts_with("ipv4:127.") || peer.starts_with("ipv6:[::1]") ||
         peer.starts_with("ipv6:%5B::1%5D") || peer.starts_with("unix:");
}

Result<population::Caller> CallAuthenticator::authenticate(const grpc::ServerContextBase& context,
                                                           std::optional<auth::Scope> scope,
                                                           std::string& subject) const {
  const auto& metadata = context.client_metadata();
  auto header = metadata.find("authorization");
  if (header == metadata.end()) {
    if (allow_anonymous_loopback_ && is_loopback_peer(context.peer())) {
      subject = "anonymous";
      return population::Caller{.subject = subject, .admin = false};
    }
    return Error{Code::kUnauthenticated, "a bearer token is required"};
  }
  auto token = auth::credentials_for({header->second.data(), header->second.size()}, "Bearer");
  if (!token) {
    return Error{Code::kUnauthenticated, "the authorization metadata must be 'Bearer <token>'"};
  }
  auto claims = verifier_.verify(*token);
  if (!claims.ok()) return claims.error();
  subject = claims->subject;
  if (scope && !claims->scopes.has(*scope)) {
    return Error{Code::kPermissionDenied,
                 "this call needs the scope " + std::string(auth::name_of(*scope))};
  }
  return population::Caller{.subject = claims->owner,
                            .admin = claims->scopes.has(auth::Scope::kAdmin)};
}

}  // namespace esp::grpcapi
