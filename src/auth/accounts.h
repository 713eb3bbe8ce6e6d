// Who may obtain tokens, and the checks behind POST /auth and POST /oauth/token.
#pragma once

#include <string>

#include "auth/account_records.h"
#include "auth/claims.h"
#include "core/error.h"

namespace esp::auth {

// The identity a token is issued to.
struct Principal {
  std::string subject;  // the email for users, "<client_id>@clients" for clients (as Auth0)
  std::string email;    // users only
  Scopes scopes;
};

struct NewClient {
  std::string client_id;
  std::string client_secret;  // shown once, stored only as a hash
};

class Accounts {
 public:
  Accounts(Users& users, Clients& clients) : users_(users), clients_(clients) {}

  // kInvalidArgument for an empty password or email, kAlreadyExists for a taken email.
  Result<bool> add_user(const std::string& email, std::string_view password, Scopes scopes);
  Result<NewClient> add_client(const std::string& name, Scopes scopes);

  // kUnauthenticated with one message for an unknown user, a wrong password or a disabled
  // account, after the same amount of hashing work, so neither reveals which it was.
  Result<Principal> check_user(const std::string& email, std::string_view password);
  Result<Principal> check_client(const std::string& client_id, std::string_view secret);

 private:
  Users& users_;
  Clients& clients_;
};

}  // namespace esp::auth
