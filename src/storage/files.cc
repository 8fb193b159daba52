#include "storage/files.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

namespace cairn::storage {
namespace {

std::string errno_text() {
  return std::strerror(errno);
}

// Written back to the disk a step at a time (SyncedFileWriter).
constexpr int64_t kWriteStep = 8 << 20;

}  // namespace

Result<SyncedFileWriter, std::string> SyncedFileWriter::create(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Err{fmt::format("cannot create {}: {}", path, errno_text())};
  return SyncedFileWriter(fd, path);
}

SyncedFileWriter::SyncedFileWriter(SyncedFileWriter&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      written_(other.written_),
      flushed_(other.flushed_) {}

SyncedFileWriter::~SyncedFileWriter() {
  if (fd_ >= 0) ::close(fd_);
}

Status<std::string> SyncedFileWriter::write(std::string_view data) {
  // Each step's pages go to the disk once written, and the step before is waited for, which
  // keeps at most two steps dirty.
  while (!data.empty()) {
    ssize_t n = ::write(fd_, data.data(), std::min(data.size(), static_cast<size_t>(kWriteStep)));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Err{fmt::format("cannot write {}: {}", path_, errno_text())};
    data.remove_prefix(static_cast<size_t>(n));
    written_ += n;
    if (written_ - flushed_ >= kWriteStep) {
      // Advisory: a failure here is found by the fsync in finish().
      if (flushed_ > 0) (void)::sync_file_range(fd_, 0, flushed_, SYNC_FILE_RANGE_WAIT_BEFORE);
      (void)::sync_file_range(fd_, flushed_, written_ - flushed_, SYNC_FILE_RANGE_WRITE);
      flushed_ = written_;
    }
  }
  return {};
}

Status<std::string> SyncedFileWriter::finish() {
  const bool ok = ::fsync(fd_) == 0;
  const std::string err = ok ? std::string() : errno_text();
  ::close(std::exchange(fd_, -1));
  if (!ok) return Err{fmt::format("cannot fsync {}: {}", path_, err)};
  return {};
}

Status<std::string> write_file_synced(const std::string& path,
                                      std::initializer_list<std::string_view> parts) {
  auto file = SyncedFileWriter::create(path);
  if (!file.ok()) return Err{file.error()};
  for (std::string_view part : parts)
    if (auto st = file->write(part); !st.ok()) return st;
  return file->finish();
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
