// Files written so a crash leaves either the old content or the new, never part of it,
// and secrets that are never readable by anyone else, not even for a moment.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string_view>

#include "core/error.h"

namespace esp {

// Writes `bytes` to a new file beside `path` created with `mode` (never widened by the
// umask's absence), fsyncs it, renames it over `path` and fsyncs the folder.
Result<bool> write_file_durably(const std::filesystem::path& path, std::string_view bytes,
                                unsigned mode = 0600);

// Told how many leading bytes of a write are written so far and never read again, as the
// write goes: a caller may give their memory back before the write ends.
using WrittenSoFar = std::function<void(std::size_t bytes)>;
// As above, in pieces, telling `written` after each.
Result<bool> write_file_durably(const std::filesystem::path& path, std::string_view bytes,
                                unsigned mode, const WrittenSoFar& written);

// Creates `folder` and any missing parents with mode 0700 (existing ones are left as
// they are); fsyncs each parent of a folder it made, so the folder survives a crash.
Result<bool> make_private_folders(const std::filesystem::path& folder);

}  // namespace esp
