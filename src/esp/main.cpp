// esp: the command-line client (src/cli).
#include "cli/commands.h"

int main(int argc, char** argv) {
  return esp::cli::run_command_line(argc, argv);
}
