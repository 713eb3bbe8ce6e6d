// Token issuance and discovery: POST /auth, POST /oauth/token, the JWKS, the OpenID
// configuration, and GET /contents (the caller's verified claims).
#pragma once

#include "api/http/router.h"
#include "api/rest/login_guard.h"
#include "auth/accounts.h"
#include "auth/issuer.h"
#include "auth/verifier.h"

namespace esp::rest {

struct IdentityServices {
  auth::Accounts& accounts;
  const auth::TokenIssuer& issuer;
  const auth::Verifier& verifier;
  LoginGuard& guard;  // attempt limits; Argon2id runs on its pool, not on the I/O threads
};

void add_identity_routes(http::Router& router, IdentityServices& services);

}  // namespace esp::rest
