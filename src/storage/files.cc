#include "storage/files.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace cairn::storage {
namespace {

std::string errno_text() {
  return std::strerror(errno);
}

}  // namespace

Status<std::string> write_file_synced(const std::string& path,
                                      std::initializer_list<std::string_view> parts) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Err{fmt::format("cannot create {}: {}", path, errno_text())};
  // Written back as it goes, a step at a time: a snapshot of gigabytes left dirty in the page
  // cache would be flushed all at once by the final fsync, and the log's fdatasync on the node
  // thread would queue behind that flush. So each step's pages are sent to the disk once written,
  // and the step before waited for, which keeps at most two steps dirty.
  constexpr size_t kStep = 8 << 20;
  off_t written = 0;
  off_t flushed = 0;  // pages before this were sent to the disk
  for (std::string_view part : parts) {
    while (!part.empty()) {
      ssize_t n = ::write(fd, part.data(), std::min(part.size(), kStep));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        std::string err = fmt::format("cannot write {}: {}", path, errno_text());
        ::close(fd);
        return Err{err};
      }
      part.remove_prefix(static_cast<size_t>(n));
      written += n;
      if (written - flushed >= static_cast<off_t>(kStep)) {
        // Advisory: a failure here is found by the fsync below.
        if (flushed > 0) (void)::sync_file_range(fd, 0, flushed, SYNC_FILE_RANGE_WAIT_BEFORE);
        (void)::sync_file_range(fd, flushed, written - flushed, SYNC_FILE_RANGE_WRITE);
        flushed = written;
      }
    }
  }
  if (::fsync(fd) != 0) {
    std::string err = fmt::format("cannot fsync {}: {}", path, errno_text());
    ::close(fd);
    return Err{err};
  }
  ::close(fd);
  return {};
}

Result<std::string, std::string> read_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Err{fmt::format("cannot read {}: {}", path, errno_text())};
  std::string out;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_size > 0) out.reserve(static_cast<size_t>(st.st_size));
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::string err = fmt::format("cannot read {}: {}", path, errno_text());
      ::close(fd);
      return Err{err};
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

Status<std::string> sync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Err{fmt::format("cannot open directory {}: {}", dir, errno_text())};
  const bool ok = ::fsync(fd) == 0;
  const std::string err = ok ? std::string() : errno_text();
  ::close(fd);
  if (!ok) return Err{fmt::format("cannot fsync directory {}: {}", dir, err)};
  return {};
}

Status<std::string> replace_file(const std::string& dir, const std::string& path,
                                 std::string_view data) {
  const std::string tmp = path + ".tmp";
  if (auto st = write_file_synced(tmp, {data}); !st.ok()) return st;
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    return Err{fmt::format("cannot rename {} to {}: {}", tmp, path, errno_text())};
  return sync_dir(dir);
}

}  // namespace cairn::storage
