// Secrets typed by a person: a line of standard input, prompted and not echoed on a
// terminal; never from argv, where other users of the machine could read it.
#pragma once

#include <string>
#include <string_view>

namespace esp {

// One line from standard input (a trailing '\r' dropped); empty at end of input.
std::string read_secret_line(std::string_view prompt);

}  // namespace esp
