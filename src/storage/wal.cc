#include "storage/wal.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "storage/files.h"
#include "storage/wal_record.h"

namespace cairn::storage {
namespace fs = std::filesystem;

namespace {

std::string errno_text() {
  return std::strerror(errno);
}

std::string segment_name(uint64_t seq) {
  return fmt::format("{:016x}.wal", seq);
}

// The sequence number a segment's file name carries, or false for any other file.
bool parse_segment_name(const std::string& name, uint64_t* seq) {
  if (name.size() != 20 || name.substr(16) != ".wal") return false;
  uint64_t v = 0;
  for (char c : name.substr(0, 16)) {
    int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
    if (d < 0) return false;
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  *seq = v;
  return true;
}

Status<std::string> write_all(int fd, const std::string& path, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Err{fmt::format("cannot write {}: {}", path, errno_text())};
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

}  // namespace

Wal::Wal(WalOptions options) : options_(std::move(options)) {}

Wal::~Wal() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::unique_ptr<Wal>, std::string> Wal::open(const WalOptions& options,
                                                    WalContents* contents) {
  std::error_code ec;
  if (options.read_only) {
    if (!fs::is_directory(options.dir, ec))
      return Err{fmt::format("{} is not a directory", options.dir)};
  } else {
    fs::create_directories(options.dir, ec);
    if (ec)
      return Err{fmt::format("cannot create WAL directory {}: {}", options.dir, ec.message())};
  }
  std::unique_ptr<Wal> wal(new Wal(options));
  *contents = WalContents{};
  if (auto st = wal->replay(contents); !st.ok()) return Err{st.error()};
  if (options.read_only) return wal;
  if (auto st = wal->open_for_append(); !st.ok()) return Err{st.error()};
  (void)wal->reserve();  // without it, has_reserve() tells the owner the disk is full
  return wal;
}

Status<std::string> Wal::replay(WalContents* out) {
  for (const auto& e : fs::directory_iterator(options_.dir)) {
    uint64_t seq = 0;
    if (e.is_regular_file() && parse_segment_name(e.path().filename().string(), &seq))
      segments_.push_back(Segment{seq, e.path().string(), 0, 0});
  }
  std::sort(segments_.begin(), segments_.end(),
            [](const Segment& a, const Segment& b) { return a.seq < b.seq; });
  for (size_t i = 1; i < segments_.size(); ++i)
    if (segments_[i].seq != segments_[i - 1].seq + 1)
      return Err{fmt::format("WAL segment {} is missing (between {} and {})",
                             segment_name(segments_[i - 1].seq + 1), segments_[i - 1].path,
                             segments_[i].path)};
  std::string released_gap;  // a gap at the start of the first segment left, judged at the end
  raft::Index released_gap_end = 0;
  for (size_t i = 0; i < segments_.size(); ++i) {
    Segment& seg = segments_[i];
    const bool last = i + 1 == segments_.size();
    auto read = read_file(seg.path);
    if (!read.ok()) return Err{read.error()};
    const std::string& data = *read;
    uint64_t seq = 0;
    if (!decode_segment_header(data, &seq) || seq != seg.seq) {
      if (last && data.size() < kSegmentHeaderBytes &&
          data == std::string_view(encode_segment_header(seg.seq)).substr(0, data.size())) {
        // Created by the crash's last roll and never written: start it again.
        out->warnings.push_back(fmt::format("{}: incomplete segment header, rewritten", seg.path));
        if (options_.read_only) break;
        fs::remove(seg.path);
        segments_.pop_back();
        break;
      }
      return Err{fmt::format("{} at offset 0: not a cairn WAL segment (or not number {})", seg.path,
                             seg.seq)};
    }
    size_t off = kSegmentHeaderBytes;
    SegmentInfo info{seg.path, 0, 0, 0, 0};
    bool entry_here = false;  // an entry record was read from this segment
    for (;;) {
      Parsed p = parse_record(std::string_view(data).substr(off));
      if (p.kind == Parsed::kEnd) break;
      // A whole record whose check fails is torn too if the crash left a sector of it unwritten
      // and nothing but zeros follows it, or left its sectors unwritten from one on.
      // (A record whose length is damaged claims no extent: its header is what was written.)
      const size_t extent = p.size != 0 ? p.size : kRecordHeaderBytes;
      if (p.kind == Parsed::kDamaged && last &&
          ((p.size != 0 && spans_zero_sector(data, off, off + p.size) &&
            data.find_first_not_of('\0', off + p.size) == std::string::npos) ||
           zero_from_sector_within(data, off, off + extent)))
        p.kind = Parsed::kTorn;
      if (p.kind == Parsed::kTorn && last) {
        out->warnings.push_back(fmt::format("{}: torn write at offset {} ({} bytes) {}", seg.path,
                                            off, data.size() - off,
                                            options_.read_only ? "to truncate" : "truncated"));
        if (options_.read_only) break;
        if (::truncate(seg.path.c_str(), static_cast<off_t>(off)) != 0)
          return Err{fmt::format("cannot truncate {}: {}", seg.path, errno_text())};
        break;
      }
      if (p.kind != Parsed::kRecord)
        return Err{fmt::format(
            "{} at offset {}: {}", seg.path, off,
            p.kind == Parsed::kTorn ? "record cut short before a later segment" : p.why)};
      if (p.type == kEntry) {
        raft::Entry e;
        if (!e.ParseFromArray(p.body.data(), static_cast<int>(p.body.size())))
          return Err{fmt::format("{} at offset {}: entry does not parse", seg.path, off)};
        const raft::Index next =
            out->entries.empty() ? out->snapshot_index + 1 : out->entries.back().index() + 1;
        if (e.index() > next && !(out->entries.empty() && out->snapshot_index == 0)) {
          const std::string gap = fmt::format("{} at offset {}: entry {} leaves a gap after {}",
                                              seg.path, off, e.index(), next - 1);
          if (i == 0 && seg.seq > 0 && !entry_here) {
            // The first segment left may begin with an old snapshot mark while the entries after
            // it were at the end of a segment since released. A segment is released only once a
            // mark covering all it held is synced, and that mark is in a later record: the gap
            // is judged at the end, against the last mark read.
            released_gap = gap;
            released_gap_end = e.index() - 1;
          } else {
            // Missing from the start of a segment: the one before lost its end (a cut at a record
            // boundary looks like a clean end), so name it too.
            const std::string before =
                i > 0 && !entry_here
                    ? fmt::format(" ({} ends at offset {} without them: cut short?)",
                                  segments_[i - 1].path, segments_[i - 1].size)
                    : std::string();
            return Err{gap + before};
          }
        }
        entry_here = true;
        // An entry replaces everything from its index on: a new leader overwrote that suffix.
        while (!out->entries.empty() && out->entries.back().index() >= e.index())
          out->entries.pop_back();
        seg.max_entry = std::max(seg.max_entry, e.index());
        if (info.first_entry == 0) info.first_entry = e.index();
        info.last_entry = e.index();
        if (e.index() > out->snapshot_index) out->entries.push_back(std::move(e));
      } else if (p.type == kHardState) {
        if (!out->hard_state.ParseFromArray(p.body.data(), static_cast<int>(p.body.size())))
          return Err{fmt::format("{} at offset {}: hard state does not parse", seg.path, off)};
      } else {
        if (p.body.size() != 17)
          return Err{fmt::format("{} at offset {}: bad snapshot mark", seg.path, off)};
        out->snapshot_index = get_u64(p.body.data());
        out->snapshot_term = get_u64(p.body.data() + 8);
        if (p.body[16] & 1) {
          out->entries.clear();
        } else {
          auto covered =
              std::find_if(out->entries.begin(), out->entries.end(),
                           [&](const raft::Entry& x) { return x.index() > out->snapshot_index; });
          out->entries.erase(out->entries.begin(), covered);
        }
      }
      off += p.size;
      ++info.records;
    }
    // Only the last segment can be empty: a segment is left only after a record went into it.
    if (!last && info.records == 0)
      return Err{fmt::format("{} at offset {}: no records, yet {} follows (cut short?)", seg.path,
                             off, segments_[i + 1].path)};
    seg.size = off;
    info.bytes = off;
    out->segments.push_back(info);
  }
  if (!released_gap.empty() && out->snapshot_index < released_gap_end)
    return Err{released_gap + " (no later snapshot mark covers it: a segment before is lost?)"};
  snapshot_index_ = out->snapshot_index;
  last_index_ = out->entries.empty() ? out->snapshot_index : out->entries.back().index();
  return {};
}

Status<std::string> Wal::open_for_append() {
  if (segments_.empty()) return start_segment(0);
  Segment& seg = segments_.back();
  fd_ = ::open(seg.path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd_ < 0) return Err{fmt::format("cannot open {}: {}", seg.path, errno_text())};
  (void)allocate(fd_);  // best effort: a full disk shows as a missing reserve
  return {};
}

uint64_t Wal::segment_allocation() const {
  return options_.segment_bytes + std::max<uint64_t>(1 << 20, options_.segment_bytes / 4);
}

std::string Wal::reserve_path() const {
  return (fs::path(options_.dir) / "next-segment.reserve").string();
}

bool Wal::allocate(int fd) {
  if (!reserve_supported_) return true;
  if (::fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, static_cast<off_t>(segment_allocation())) == 0)
    return true;
  if (errno == EOPNOTSUPP) reserve_supported_ = false;
  return !reserve_supported_;
}

Status<std::string> Wal::reserve() {
  if (reserve_ready_) return {};
  const std::string path = reserve_path();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    reserve_error_ = fmt::format("cannot create {}: {}", path, errno_text());
    return Err{reserve_error_};
  }
  const bool ok = allocate(fd);
  const std::string why = ok ? std::string() : errno_text();
  ::close(fd);
  if (!ok || !reserve_supported_) {
    ::unlink(path.c_str());  // a partial allocation would only hold space nobody can use
    if (!ok) {
      reserve_error_ = fmt::format("cannot allocate {} bytes for the next log segment in {}: {}",
                                   segment_allocation(), options_.dir, why);
      return Err{reserve_error_};
    }
  }
  reserve_error_.clear();
  reserve_ready_ = true;
  return {};
}

Status<std::string> Wal::start_segment(uint64_t seq) {
  Segment seg{seq, (fs::path(options_.dir) / segment_name(seq)).string(), 0, 0};
  // The reserve becomes the segment: its space is allocated already, so a full disk cannot
  // stop the roll (nor the appends that fill it).
  const bool reserved = reserve_ready_ && reserve_supported_ &&
                        ::rename(reserve_path().c_str(), seg.path.c_str()) == 0;
  reserve_ready_ = reserve_ready_ && !reserve_supported_;
  int fd = ::open(seg.path.c_str(),
                  O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (reserved ? 0 : O_EXCL), 0644);
  if (fd < 0) return Err{fmt::format("cannot create {}: {}", seg.path, errno_text())};
  if (!reserved) (void)allocate(fd);
  const std::string header = encode_segment_header(seq);
  if (auto st = write_all(fd, seg.path, header); !st.ok()) {
    ::close(fd);
    return st;
  }
  if (fd_ >= 0) {
    // The segment being left must be durable before records in the next one can count.
    if (options_.sync && ::fdatasync(fd_) != 0) {
      ::close(fd);
      return Err{fmt::format("cannot sync {}: {}", segments_.back().path, errno_text())};
    }
    if (options_.sync && options_.synced)
      options_.synced(segments_.back().path, segments_.back().size);
    ::close(fd_);
  }
  fd_ = fd;
  seg.size = header.size();
  segments_.push_back(std::move(seg));
  dir_dirty_ = true;
  unsynced_ += header.size();
  (void)reserve();  // the next segment's space; failing, has_reserve() says the disk is full
  return {};
}

Status<std::string> Wal::write_scratch(raft::Index max_entry) {
  if (segments_.back().size >= options_.segment_bytes) {
    if (auto st = start_segment(segments_.back().seq + 1); !st.ok()) return st;
  }
  Segment& seg = segments_.back();
  if (auto st = write_all(fd_, seg.path, scratch_); !st.ok()) return st;
  seg.size += scratch_.size();
  unsynced_ += scratch_.size();
  seg.max_entry = std::max(seg.max_entry, max_entry);
  return {};
}

Status<std::string> Wal::write_record(uint8_t type, std::string_view body) {
  scratch_.clear();
  encode_record(scratch_, type, body);
  return write_scratch(0);
}

Status<std::string> Wal::append(const std::vector<raft::Entry>& entries) {
  if (entries.empty()) return {};
  raft::Index last = last_index_;
  for (const auto& e : entries) {
    if (e.index() == 0 || e.index() > last + 1)
      return Err{fmt::format("entry {} does not follow the log's last index {}", e.index(), last)};
    last = e.index();
  }
  // Every entry serialized straight into one buffer, handed to the OS in one write.
  scratch_.clear();
  for (const auto& e : entries) {
    const size_t start = begin_record(scratch_, kEntry);
    e.AppendToString(&scratch_);
    finish_record(scratch_, start);
  }
  if (auto st = write_scratch(last); !st.ok()) return st;
  last_index_ = last;
  return {};
}

Status<std::string> Wal::append_hard_state(const raft::HardState& hs) {
  return write_record(kHardState, hs.SerializeAsString());
}

Status<std::string> Wal::mark_snapshot(raft::Index index, raft::Term term, bool replaces_log) {
  std::string body;
  put_u64(body, index);
  put_u64(body, term);
  body.push_back(replaces_log ? 1 : 0);
  if (auto st = write_record(kSnapshotMark, body); !st.ok()) return st;
  snapshot_index_ = index;
  last_index_ = replaces_log ? index : std::max(last_index_, index);
  return {};
}

Status<std::string> Wal::sync() {
  if (options_.sync) {
    if (::fdatasync(fd_) != 0)
      return Err{fmt::format("cannot sync {}: {}", segments_.back().path, errno_text())};
    if (dir_dirty_) {
      if (auto st = sync_dir(options_.dir); !st.ok()) return st;
    }
    if (options_.synced) options_.synced(segments_.back().path, segments_.back().size);
  }
  dir_dirty_ = false;
  unsynced_ = 0;
  return {};
}

Result<Wal::SyncTarget, std::string> Wal::take_sync_target() {
  SyncTarget t;
  t.fd = ::fcntl(fd_, F_DUPFD_CLOEXEC, 0);
  if (t.fd < 0)
    return Err{fmt::format("cannot duplicate the descriptor of {}: {}", segments_.back().path,
                           errno_text())};
  t.path = segments_.back().path;
  t.bytes = segments_.back().size;
  if (dir_dirty_) t.dir = options_.dir;
  dir_dirty_ = false;
  unsynced_ = 0;
  return t;
}

Status<std::string> Wal::sync_target(SyncTarget target) {
  const bool ok = ::fdatasync(target.fd) == 0;
  const std::string err = ok ? std::string() : errno_text();
  ::close(target.fd);
  if (!ok) return Err{fmt::format("cannot sync {}: {}", target.path, err)};
  if (!target.dir.empty()) return sync_dir(target.dir);
  return {};
}

Result<size_t, std::string> Wal::release() {
  size_t removed = 0;
  while (segments_.size() > 1 && segments_.front().max_entry <= snapshot_index_) {
    std::error_code ec;
    fs::remove(segments_.front().path, ec);
    if (ec) return Err{fmt::format("cannot remove {}: {}", segments_.front().path, ec.message())};
    segments_.erase(segments_.begin());
    dir_dirty_ = true;
    ++removed;
  }
  return removed;
}

}  // namespace cairn::storage
