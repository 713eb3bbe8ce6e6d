// The store's side of the accounts: it keeps auth's account records (auth/account_records.h).
#pragma once

#include "auth/account_records.h"

namespace esp::store {

using User = auth::User;
using Client = auth::Client;
using Users = auth::Users;
using Clients = auth::Clients;

}  // namespace esp::store
