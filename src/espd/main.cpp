// espd: the ESP service. Parses its settings and serves until told to stop.
#include <cstdio>

#include "config/config.h"
#include "espd/admin.h"
#include "espd/serve.h"
#include "observability/log.h"

int main(int argc, char** argv) {
  const auto parsed = esp::config::parse(argc, argv);
  if (!parsed.config) {
    std::fputs((parsed.message + "\n").c_str(), parsed.exit_code == 0 ? stdout : stderr);
    return parsed.exit_code;
  }
  if (parsed.config->command) return esp::espd::run_admin(*parsed.config, *parsed.config->command);
  esp::log::init(parsed.config->log_level);
  const int exit_code = esp::espd::serve(*parsed.config);
  esp::log::flush();
  return exit_code;
}
