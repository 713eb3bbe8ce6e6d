#include "core/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

namespace esp {
namespace {

namespace fs = std::filesystem;

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
  return true;
}

// Large writes from memory aligned for direct I/O go around the page cache: the device
// reads them from `bytes` itself, where a buffered write first clears cache pages, copies
// into them and flushes them at fsync. A 490 MB population took 0.25-0.37 s this way and
// 0.8-1.7 s buffered (dd on the development VM). What direct I/O refuses (a filesystem
// without it, such as tmpfs, or an unaligned tail) is written buffered.
constexpr std::size_t kDirectAlignment = 4096;  // every logical block size in use divides it
constexpr std::size_t kDirectAtLeast = std::size_t{8} << 20;
// Direct writes of this much at a time took as long in all as one write of 490 MB (dd on
// the development VM), and each piece written can be given back before the rest is.
constexpr std::size_t kDirectPiece = std::size_t{64} << 20;

void write_directly_what_aligns(int fd, std::string_view& bytes,
                                const WrittenSoFar& written_so_far) {
  if (bytes.size() < kDirectAtLeast ||
      reinterpret_cast<std::uintptr_t>(bytes.data()) % kDirectAlignment != 0)
    return;
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_DIRECT) != 0) return;
  const std::size_t total = bytes.size();
  std::size_t aligned = bytes.size() / kDirectAlignment * kDirectAlignment;
  while (aligned > 0) {
    const ssize_t written = ::write(fd, bytes.data(), std::min(aligned, kDirectPiece));
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) break;  // the rest buffered, which reports a lasting failure
    bytes.remove_prefix(static_cast<std::size_t>(written));
    aligned -= static_cast<std::size_t>(written);
    if (written_so_far) written_so_far(total - bytes.size());
    if (static_cast<std::size_t>(written) % kDirectAlignment != 0) break;  // no longer aligned
  }
  ::fcntl(fd, F_SETFL, flags);
}

void sync_folder(const fs::path& folder) {
  const int fd = ::open(folder.empty() ? "." : folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

Error unavailable(const std::string& what, const fs::path& path) {
  return Error{Code::kUnavailable, what + " " + path.string() + ": " + std::strerror(errno)};
}

}  // namespace

Result<bool> write_file_durably(const fs::path& path, std::string_view bytes, unsigned mode) {
  return write_file_durably(path, bytes, mode, {});
}

Result<bool> write_file_durably(const fs::path& path, std::string_view bytes, unsigned mode,
                                const WrittenSoFar& written_so_far) {
  static std::atomic<unsigned> counter{0};
  const fs::path temporary =
      path.string() + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  // O_EXCL: a file someone else made there (with other permissions) is never reused.
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return unavailable("cannot create", temporary);
  // The umask narrows the mode; make it exactly `mode` before any byte is written.
  bool written = ::fchmod(fd, mode) == 0;
  const std::size_t total = bytes.size();
  if (written) write_directly_what_aligns(fd, bytes, written_so_far);
  written = written && write_all(fd, bytes);
  // Buffered bytes are in the page cache once written: the caller's copy is not needed.
  if (written && written_so_far && !bytes.empty()) written_so_far(total);
  written = written && ::fsync(fd) == 0;
  auto failure = written ? Error{} : unavailable("cannot write", temporary);
  ::close(fd);
  std::error_code ec;
  if (!written) {
    fs::remove(temporary, ec);
    return failure;
  }
  fs::rename(temporary, path, ec);
  if (ec) {
    fs::remove(temporary, ec);
    return Error{Code::kUnavailable, "cannot rename into " + path.string() + ": " + ec.message()};
  }
  sync_folder(path.parent_path());
  return true;
}

Result<bool> make_private_folders(const fs::path& folder) {
  if (folder.empty()) return true;
  std::error_code ec;
  if (fs::is_directory(folder, ec)) return true;
  if (auto parent = make_private_folders(folder.parent_path()); !parent.ok()) return parent;
  if (::mkdir(folder.c_str(), 0700) != 0 && errno != EEXIST)
    return unavailable("cannot create folder", folder);
  sync_folder(folder.parent_path());
  return true;
}

}  // namespace esp
