// The `esp` command line: parses arguments and runs one command. Errors are one line
// on stderr and a non-zero exit code.
#pragma once

namespace esp::cli {

int run_command_line(int argc, char** argv);

}  // namespace esp::cli
