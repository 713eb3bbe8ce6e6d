#include "auth/accounts.h"

#include "auth/digest.h"
#include "auth/password.h"
#include "auth/verifier.h"

namespace esp::auth {
namespace {

Error denied(const char* what) {
  return Error{Code::kUnauthenticated, what};
}

}  // namespace

Result<bool> Accounts::add_user(const std::string& email, std::string_view password,
                                Scopes scopes) {
  if (email.empty() || email.find('@') == std::string::npos ||
      email.find_first_of(" \t\r\n") != std::string::npos) {
    return Error{Code::kInvalidArgument, "an email address (without white space) is required"};
  }
  if (password.empty()) return Error{Code::kInvalidArgument, "the password must not be empty"};
  auto hash = hash_password(password);
  if (!hash.ok()) return hash.error();
  return users_.add({.email = email,
                     .password_hash = *hash,
                     .scopes = scopes.to_string(),
                     .created_at = unix_now()});
}

Result<NewClient> Accounts::add_client(const std::string& name, Scopes scopes) {
  auto id = random_id(12);
  auto secret = random_id(32);
  if (!id.ok() || !secret.ok()) return Error{Code::kInternal, "no random bytes"};
  auto hash = hash_password(*secret);
  if (!hash.ok()) return hash.error();
  NewClient client{.client_id = "esp_" + *id, .client_secret = *secret};
  auto added = clients_.add({.client_id = client.client_id,
                             .name = name,
                             .secret_hash = *hash,
                             .scopes = scopes.to_string(),
                             .created_at = unix_now()});
  if (!added.ok()) return added.error();
  return client;
}

Result<Principal> Accounts::check_user(const std::string& email, std::string_view password) {
  auto user = users_.find(email);
  if (!user.ok()) return user.error();
  if (!user->has_value()) {
    verify_against_dummy(password);
    return denied("wrong email or password");
  }
  const bool matches = verify_password((*user)->password_hash, password);
  if (!matches || (*user)->disabled) return denied("wrong email or password");
  return Principal{.subject = email, .email = email, .scopes = Scopes::parse((*user)->scopes)};
}

Result<Principal> Accounts::check_client(const std::string& client_id, std::string_view secret) {
  auto client = clients_.find(client_id);
  if (!client.ok()) return client.error();
  if (!client->has_value()) {
    verify_against_dummy(secret);
    return denied("unknown client or wrong secret");
  }
  const bool matches = verify_password((*client)->secret_hash, secret);
  if (!matches || (*client)->disabled) return denied("unknown client or wrong secret");
  return Principal{
      .subject = client_id + "@clients", .email = {}, .scopes = Scopes::parse((*client)->scopes)};
}

}  // namespace esp::auth
