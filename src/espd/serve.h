// Runs espd: HTTP and gRPC listeners over shared state until SIGTERM/SIGINT,
// then a graceful shutdown. Returns the process exit code.
#pragma once

#include "config/config.h"

namespace esp::espd {

int serve(const config::Config& config);

}  // namespace esp::espd
