// espd users ... / espd clients ...: account administration against the configured store.
#pragma once

#include "config/config.h"

namespace esp::espd {

// Runs one administration command; returns the process exit code.
int run_admin(const config::Config& config, const config::AdminCommand& command);

}  // namespace esp::espd
