#include "storage/snapshot_files.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "storage/files.h"
#include "storage/wal_record.h"

namespace cairn::storage {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kMagic = "CAIRNSN1";
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

Status<std::string> SnapshotFiles::save(const raft::Snapshot& snap) const {
  const auto& meta = snap.metadata();
  const std::string name = fmt::format("{:016x}-{:016x}{}", meta.index(), meta.term(), kSuffix);
  const std::string path = (fs::path(dir_) / name).string();
  std::string head(kMagic);
  const std::string meta_bytes = meta.SerializeAsString();
  const auto meta_len = static_cast<uint32_t>(meta_bytes.size());
  for (int i = 0; i < 4; ++i)
    head.push_back(static_cast<char>((meta_len >> (8 * i)) & 0xff));
  head += meta_bytes;
  put_u64(head, snap.data().size());
  XXH3_state_t* st = XXH3_createState();
  XXH3_64bits_reset(st);
  XXH3_64bits_update(st, head.data(), head.size());
  XXH3_64bits_update(st, snap.data().data(), snap.data().size());
  std::string tail;
  put_u64(tail, XXH3_64bits_digest(st));
  XXH3_freeState(st);
  const std::string tmp = path + ".tmp";
  if (auto w = write_file_synced(tmp, {head, snap.data(), tail}); !w.ok()) {
    std::remove(tmp.c_str());  // a partial file would only hold space (a full disk, likely)
    return w;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    return Err{fmt::format("cannot rename {} to {}: {}", tmp, path, errno_text())};
  return sync_dir(dir_);
}

Result<raft::Snapshot, std::string> read_snapshot_file(const std::string& path) {
  auto read = read_file(path);
  if (!read.ok()) return Err{read.error()};
  std::string& bytes = *read;
  // Every refusal names the file and an offset: where the fault shows, or for the checksum (one
  // over the whole file, so it cannot say which byte) where it is stored.
  auto bad = [&](size_t at, std::string_view what) {
    return Err{fmt::format("{} at offset {}: {}", path, at, what)};
  };
  if (bytes.size() < kMagic.size() + 4 + 8 + 8 || bytes.substr(0, kMagic.size()) != kMagic)
    return bad(0, fmt::format("not a cairn snapshot file ({} bytes)", bytes.size()));
  const size_t body_end = bytes.size() - 8;
  if (XXH3_64bits(bytes.data(), body_end) != get_u64(bytes.data() + body_end))
    return bad(body_end,
               fmt::format("checksum mismatch: the one stored here does not match bytes 0 to {} "
                           "(the file is damaged)",
                           body_end));
  size_t off = kMagic.size();
  uint32_t meta_len = 0;
  for (int i = 3; i >= 0; --i)
    meta_len = (meta_len << 8) | static_cast<unsigned char>(bytes[off + static_cast<size_t>(i)]);
  if (meta_len > body_end - off - 4 - 8) return bad(off, "metadata length runs past the end");
  off += 4;
  raft::Snapshot snap;
  if (!snap.mutable_metadata()->ParseFromArray(bytes.data() + off, static_cast<int>(meta_len)))
    return bad(off, "metadata does not parse");
  off += meta_len;
  const uint64_t data_len = get_u64(bytes.data() + off);
  if (data_len != body_end - off - 8) return bad(off, "data length does not match the file size");
  off += 8;
  // The data is the bulk of the file: keep it in the buffer it was read into, not a copy.
  bytes.resize(body_end);
  bytes.erase(0, off);
  snap.set_data(std::move(bytes));
  return snap;
}

Result<std::optional<raft::Snapshot>, std::string> SnapshotFiles::load_newest() const {
  const auto names = list();
  if (names.empty()) return std::optional<raft::Snapshot>{};
  auto snap = read_snapshot_file((fs::path(dir_) / names.back()).string());
  if (!snap.ok()) return Err{snap.error()};
  return std::optional<raft::Snapshot>{std::move(*snap)};
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
