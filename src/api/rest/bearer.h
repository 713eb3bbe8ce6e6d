// Bearer-token protection for REST routes: 401 with WWW-Authenticate for a missing or
// invalid token, 403 insufficient_scope for a token without the route's scope.
#pragma once

#include <functional>
#include <optional>

#include "api/http/message.h"
#include "auth/claims.h"
#include "auth/verifier.h"

namespace esp::rest {

using AuthenticatedHandler =
    std::function<void(http::Request&, const auth::Claims&, http::Respond)>;

// `scope` empty: any valid token will do.
http::Handler protect(const auth::Verifier& verifier, std::optional<auth::Scope> scope,
                      AuthenticatedHandler handler);

}  // namespace esp::rest
