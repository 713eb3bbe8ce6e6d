#include "espd/admin.h"

#include <filesystem>
#include <iostream>
#include <string>

#include "auth/accounts.h"
#include "core/files.h"
#include "core/prompt.h"
#include "espd/storage.h"

namespace esp::espd {
namespace {

int fail(const Error& error) {
  std::cerr << "espd: " << error.message << "\n";
  return error.code == Code::kInvalidArgument || error.code == Code::kAlreadyExists ||
                 error.code == Code::kNotFound
             ? 2
             : 1;
}

}  // namespace

int run_admin(const config::Config& config, const config::AdminCommand& command) {
  using Kind = config::AdminCommand::Kind;
  if (auto made = make_private_folders(config.data_dir); !made.ok()) return fail(made.error());
  auto store = open_store(config);
  if (!store.ok()) return fail(store.error());
  auth::Accounts accounts(*store->users, *store->clients);
  const auto scopes = auth::Scopes::parse(command.scopes);
  switch (command.kind) {
    case Kind::kUsersAdd: {
      auto added = accounts.add_user(command.target, read_secret_line("Password: "), scopes);
      if (!added.ok()) return fail(added.error());
      std::cout << "added user " << command.target << " (" << scopes.to_string() << ")\n";
      return 0;
    }
    case Kind::kUsersList: {
      auto users = store->users->list();
      if (!users.ok()) return fail(users.error());
      for (const auto& user : *users) {
        std::cout << user.email << "\t" << user.scopes << "\t"
                  << (user.disabled ? "disabled" : "active") << "\n";
      }
      return 0;
    }
    case Kind::kUsersDisable: {
      auto disabled = store->users->disable(command.target);
      if (!disabled.ok()) return fail(disabled.error());
      std::cout << "disabled user " << command.target << "\n";
      return 0;
    }
    case Kind::kClientsAdd: {
      auto client = accounts.add_client(command.target, scopes);
      if (!client.ok()) return fail(client.error());
      std::cout << "client_id=" << client->client_id << "\nclient_secret=" << client->client_secret
                << "\n(the secret is shown once; store it now)\n";
      return 0;
    }
  }
  return 2;
}

}  // namespace esp::espd
