#include "storage/snapshot_files.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "storage/files.h"
#include "storage/wal_record.h"

namespace cairn::storage {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kMagic = "CAIRNSN2";
constexpr std::string_view kMagicV1 = "CAIRNSN1";  // data length before the data
constexpr std::string_view kSuffix = ".snap";

std::string errno_text() {
  return std::strerror(errno);
}

bool is_snapshot_name(const std::string& name) {
  // <16 hex>-<16 hex>.snap
  if (name.size() != 38 || name[16] != '-' || name.substr(33) != kSuffix) return false;
  return std::all_of(name.begin(), name.begin() + 33, [](char c) {
    return c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

}  // namespace

Result<SnapshotFiles, std::string> SnapshotFiles::open(const std::string& dir,
                                                       std::vector<std::string>* warnings) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Err{fmt::format("cannot create snapshot directory {}: {}", dir, ec.message())};
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".tmp") continue;
    warnings->push_back(
        fmt::format("{}: left by an interrupted snapshot write, removed", e.path().string()));
    fs::remove(e.path(), ec);
  }
  return SnapshotFiles(dir);
}

std::vector<std::string> SnapshotFiles::list() const {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir_)) {
    const std::string name = e.path().filename().string();
    if (e.is_regular_file() && is_snapshot_name(name)) names.push_back(name);
  }
  std::sort(names.begin(), names.end());  // fixed-width hex: by index, then term
  return names;
}

SnapshotFileWriter::SnapshotFileWriter(SyncedFileWriter file, std::string dir, std::string path)
    : file_(std::move(file)), dir_(std::move(dir)), path_(std::move(path)) {}

SnapshotFileWriter::SnapshotFileWriter(SnapshotFileWriter&& other) noexcept
    : file_(std::move(other.file_)),
      dir_(std::move(other.dir_)),
      path_(std::move(other.path_)),
      hash_(std::move(other.hash_)),
      data_bytes_(other.data_bytes_),
      data_offset_(other.data_offset_),
      committed_(std::exchange(other.committed_, true)) {}

SnapshotFileWriter::~SnapshotFileWriter() {
  // A partial file would only hold space (a full disk, likely), and a crash's leftover is removed
  // at the next open anyway.
  if (!committed_) std::remove((path_ + ".tmp").c_str());
}

Status<std::string> SnapshotFileWriter::put(std::string_view bytes) {
  hash_.update(bytes.data(), bytes.size());
  return file_.write(bytes);
}

Status<std::string> SnapshotFileWriter::write(std::string_view data) {
  CAIRN_CHECK(!committed_);
  data_bytes_ += data.size();
  return put(data);
}

Status<std::string> SnapshotFileWriter::commit() {
  CAIRN_CHECK(!committed_);
  std::string len;
  put_u64(len, data_bytes_);
  if (auto st = put(len); !st.ok()) return st;
  std::string sum;
  put_u64(sum, hash_.digest());
  if (auto st = file_.write(sum); !st.ok()) return st;
  if (auto st = file_.finish(); !st.ok()) return st;
  const std::string tmp = path_ + ".tmp";
  if (std::rename(tmp.c_str(), path_.c_str()) != 0)
    return Err{fmt::format("cannot rename {} to {}: {}", tmp, path_, errno_text())};
  committed_ = true;
  return sync_dir(dir_);
}

Result<SnapshotFileWriter, std::string> begin_snapshot_file(const std::string& dir,
                                                            const std::string& path,
                                                            const eraftpb::SnapshotMetadata& meta) {
  auto file = SyncedFileWriter::create(path + ".tmp");
  if (!file.ok()) return Err{file.error()};
  SnapshotFileWriter w(std::move(*file), dir, path);
  std::string head(kMagic);
  const std::string meta_bytes = meta.SerializeAsString();
  const auto meta_len = static_cast<uint32_t>(meta_bytes.size());
  for (int i = 0; i < 4; ++i)
    head.push_back(static_cast<char>((meta_len >> (8 * i)) & 0xff));
  head += meta_bytes;
  if (auto st = w.put(head); !st.ok()) return Err{st.error()};
  w.data_offset_ = head.size();
  return w;
}

std::string SnapshotFiles::path_of(const eraftpb::SnapshotMetadata& meta) const {
  return (fs::path(dir_) / fmt::format("{:016x}-{:016x}{}", meta.index(), meta.term(), kSuffix))
      .string();
}

Result<SnapshotFileWriter, std::string> SnapshotFiles::begin(
    const eraftpb::SnapshotMetadata& meta) const {
  return begin_snapshot_file(dir_, path_of(meta), meta);
}

Result<std::string, std::string> SnapshotFiles::adopt(const std::string& path,
                                                      const eraftpb::SnapshotMetadata& meta) const {
  const std::string to = path_of(meta);
  if (std::rename(path.c_str(), to.c_str()) != 0)
    return Err{fmt::format("cannot rename {} to {}: {}", path, to, errno_text())};
  if (auto st = sync_dir(dir_); !st.ok()) return Err{st.error()};
  return to;
}

Status<std::string> SnapshotFiles::save(const raft::Snapshot& snap) const {
  auto w = begin(snap.metadata());
  if (!w.ok()) return Err{w.error()};
  if (auto st = w->write(snap.data()); !st.ok()) return st;
  return w->commit();
}

Result<FileRangeReader, std::string> FileRangeReader::open(const std::string& path, uint64_t offset,
                                                           uint64_t length) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Err{fmt::format("cannot read {}: {}", path, errno_text())};
  return FileRangeReader(fd, path, offset, length);
}

FileRangeReader::FileRangeReader(FileRangeReader&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      begin_(other.begin_),
      at_(other.at_),
      end_(other.end_) {}

FileRangeReader::~FileRangeReader() {
  if (fd_ >= 0) ::close(fd_);
}

Result<size_t, std::string> FileRangeReader::read(char* out, size_t n) {
  n = static_cast<size_t>(std::min<uint64_t>(n, end_ - at_));
  while (n > 0) {
    ssize_t got = ::pread(fd_, out, n, static_cast<off_t>(at_));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0)
      return Err{fmt::format("cannot read {} at offset {}: {}", path_, at_, errno_text())};
    if (got == 0)
      return Err{fmt::format("{} at offset {}: the file ends before its data", path_, at_)};
    at_ += static_cast<uint64_t>(got);
    return static_cast<size_t>(got);
  }
  return size_t{0};
}

Result<size_t, std::string> FileRangeReader::read_at(uint64_t pos, char* out, size_t n) const {
  if (pos >= size()) return size_t{0};
  n = static_cast<size_t>(std::min<uint64_t>(n, size() - pos));
  for (;;) {
    ssize_t got = ::pread(fd_, out, n, static_cast<off_t>(begin_ + pos));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0)
      return Err{fmt::format("cannot read {} at offset {}: {}", path_, begin_ + pos, errno_text())};
    if (got == 0)
      return Err{
          fmt::format("{} at offset {}: the file ends before its data", path_, begin_ + pos)};
    return static_cast<size_t>(got);
  }
}

Result<SnapshotFileInfo, std::string> check_snapshot_file(const std::string& path) {
  // Every refusal names the file and an offset: where the fault shows, or for the checksum (one
  // over the whole file, so it cannot say which byte) where it is stored.
  auto bad = [&](uint64_t at, std::string_view what) {
    return Err{fmt::format("{} at offset {}: {}", path, at, what)};
  };
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return Err{fmt::format("cannot read {}: {}", path, errno_text())};
  const auto size = static_cast<uint64_t>(st.st_size);
  auto file = FileRangeReader::open(path, 0, size);
  if (!file.ok()) return Err{file.error()};
  // Read front to back in steps: the checksum over everything but its own 8 bytes, and the
  // head (magic, metadata length and metadata) kept on the way.
  constexpr size_t kStep = 1 << 20;
  constexpr uint64_t kMinSize = kMagic.size() + 4 + 8 + 8;
  std::string head;
  std::string tail;  // the last 16 bytes: data length (second layout) and checksum
  {
    Xxh3Stream hash;
    std::string buf(kStep, '\0');
    uint64_t at = 0;
    for (;;) {
      auto n = file->read(buf.data(), buf.size());
      if (!n.ok()) return Err{n.error()};
      if (*n == 0) break;
      const std::string_view got(buf.data(), *n);
      if (head.size() < kStep) head.append(got.substr(0, kStep - head.size()));
      const uint64_t body_end = size < 8 ? 0 : size - 8;
      if (at < body_end)
        hash.update(got.data(), static_cast<size_t>(std::min<uint64_t>(*n, body_end - at)));
      tail.append(got);
      if (tail.size() > 16) tail.erase(0, tail.size() - 16);
      at += *n;
    }
    const bool v1 = head.substr(0, kMagicV1.size()) == kMagicV1;
    if (size < kMinSize || (!v1 && head.substr(0, kMagic.size()) != kMagic))
      return bad(0, fmt::format("not a cairn snapshot file ({} bytes)", size));
    if (hash.digest() != get_u64(tail.data() + 8))
      return bad(size - 8,
                 fmt::format("checksum mismatch: the one stored here does not match bytes 0 to "
                             "{} (the file is damaged)",
                             size - 8));
  }
  const bool v1 = head.substr(0, kMagicV1.size()) == kMagicV1;
  const uint64_t body_end = size - 8;
  uint64_t off = kMagic.size();
  uint32_t meta_len = 0;
  for (int i = 3; i >= 0; --i)
    meta_len = (meta_len << 8) | static_cast<unsigned char>(head[off + static_cast<size_t>(i)]);
  if (meta_len > body_end - off - 4 - 8) return bad(off, "metadata length runs past the end");
  off += 4;
  if (off + meta_len + (v1 ? 8 : 0) > head.size())
    return bad(off, "metadata too large for a snapshot file");
  SnapshotFileInfo info;
  info.path = path;
  if (!info.metadata.ParseFromArray(head.data() + off, static_cast<int>(meta_len)))
    return bad(off, "metadata does not parse");
  off += meta_len;
  // The data runs from `off`; its length is stored before it (first layout) or after it.
  const uint64_t len_at = v1 ? off : body_end - 8;
  const uint64_t data_len = get_u64(v1 ? head.data() + off : tail.data());
  if (data_len != body_end - off - 8)
    return bad(len_at, "data length does not match the file size");
  info.data_offset = v1 ? off + 8 : off;
  info.data_bytes = data_len;
  return info;
}

Result<raft::Snapshot, std::string> read_snapshot_file(const std::string& path) {
  auto info = check_snapshot_file(path);
  if (!info.ok()) return Err{info.error()};
  auto file = FileRangeReader::open(path, info->data_offset, info->data_bytes);
  if (!file.ok()) return Err{file.error()};
  raft::Snapshot snap;
  *snap.mutable_metadata() = std::move(info->metadata);
  std::string data(static_cast<size_t>(info->data_bytes), '\0');
  for (size_t at = 0; at < data.size();) {
    auto n = file->read(data.data() + at, data.size() - at);
    if (!n.ok()) return Err{n.error()};
    if (*n == 0) return Err{fmt::format("{}: the file ends before its data", path)};
    at += *n;
  }
  snap.set_data(std::move(data));
  return snap;
}

Result<std::optional<raft::Snapshot>, std::string> SnapshotFiles::load_newest() const {
  const auto names = list();
  if (names.empty()) return std::optional<raft::Snapshot>{};
  auto snap = read_snapshot_file((fs::path(dir_) / names.back()).string());
  if (!snap.ok()) return Err{snap.error()};
  return std::optional<raft::Snapshot>{std::move(*snap)};
}

Result<std::optional<SnapshotFileInfo>, std::string> SnapshotFiles::check_newest() const {
  const auto names = list();
  if (names.empty()) return std::optional<SnapshotFileInfo>{};
  auto info = check_snapshot_file((fs::path(dir_) / names.back()).string());
  if (!info.ok()) return Err{info.error()};
  return std::optional<SnapshotFileInfo>{std::move(*info)};
}

Result<size_t, std::string> SnapshotFiles::remove_older() const {
  auto names = list();
  if (names.size() <= 1) return size_t{0};
  names.pop_back();
  for (const auto& n : names) {
    std::error_code ec;
    fs::remove(fs::path(dir_) / n, ec);
    if (ec) return Err{fmt::format("cannot remove {}: {}", n, ec.message())};
  }
  if (auto st = sync_dir(dir_); !st.ok()) return Err{st.error()};
  return names.size();
}

}  // namespace cairn::storage
