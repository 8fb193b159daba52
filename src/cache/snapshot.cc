// Snapshot writer, verifier and loader (see snapshot.h; format in docs/cache.md).
//
// Stream layout:
//   header   "CAIRNSNP" | version u32 | flags u32 (0)
//   blocks   raw_len u32 | comp_len u32 | xxh64(raw, seed 0) u64 | LZ4 block of comp_len bytes
//   end      raw_len 0 | comp_len 0 | entries u64 | xxh3_64 over all raw bytes u64 | "CAIRNEND"
// All integers little-endian. The raw bytes, cut into blocks at arbitrary points, are:
//   clock_ms i64 | entries u64 | then per entry: flags u8 (bit 0: has expiry) | key_len varint |
//   value_len varint | [expire_ms i64] | key | value
//   then (version 2) the client sessions: sessions u64 | next_id u64 | per session: id u64 |
//   last_active_ms i64 | floor u64 | replies u64 | per reply: seq u64 | len varint |
//   cache::encode_reply bytes
#include "cache/snapshot.h"

#include <lz4.h>
#include <xxhash.h>

#include <cstring>
#include <mutex>
#include <vector>

#include "cache/codec.h"
#include "cache/engine.h"
#include "common/xxh3_stream.h"

namespace cairn::cache {

size_t StringSource::read(char* out, size_t n) {
  n = std::min(n, data_.size() - pos_);
  std::memcpy(out, data_.data() + pos_, n);
  pos_ += n;
  return n;
}

namespace {

void put_u32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    p[i] = static_cast<char>(v >> (8 * i));
}
void put_u64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    p[i] = static_cast<char>(v >> (8 * i));
}
uint32_t get_u32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i)
    v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
uint64_t get_u64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i)
    v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(v));
  return buf;
}
Err<SnapshotError> fail(std::string msg) {
  return Err(SnapshotError{"snapshot: " + std::move(msg)});
}

// Cuts the raw byte stream into compressed, checksummed blocks.
class BlockWriter {
 public:
  explicit BlockWriter(SnapshotSink& sink)
      : sink_(sink), comp_(static_cast<size_t>(LZ4_compressBound(kSnapshotMaxBlock))) {
    raw_.reserve(kSnapshotMaxBlock);
  }
  bool ok() const { return ok_; }
  void append(const char* p, size_t n) {
    while (n > 0 && ok_) {
      size_t take = std::min(n, kSnapshotMaxBlock - raw_.size());
      raw_.insert(raw_.end(), p, p + take);
      p += take;
      n -= take;
      if (raw_.size() == kSnapshotMaxBlock) flush();
    }
  }
  void append_varint(uint64_t v) {
    char buf[10];
    size_t n = 0;
    while (v >= 0x80) {
      buf[n++] = static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    buf[n++] = static_cast<char>(v);
    append(buf, n);
  }
  void append_u64(uint64_t v) {
    char buf[8];
    put_u64(buf, v);
    append(buf, 8);
  }
  void header() {
    char h[16];
    std::memcpy(h, kSnapshotMagic, 8);
    put_u32(h + 8, kSnapshotVersion);
    put_u32(h + 12, 0);
    emit(h, 16);
  }
  void finish(uint64_t entries) {
    flush();
    char t[32];
    put_u32(t, 0);
    put_u32(t + 4, 0);
    put_u64(t + 8, entries);
    put_u64(t + 16, state_.digest());
    std::memcpy(t + 24, kSnapshotEndMagic, 8);
    emit(t, 32);
  }
  uint64_t raw_bytes() const { return raw_total_; }
  uint64_t written() const { return written_; }

 private:
  void flush() {
    if (raw_.empty() || !ok_) return;
    state_.update(raw_.data(), raw_.size());
    raw_total_ += raw_.size();
    int n = LZ4_compress_default(raw_.data(), comp_.data(), static_cast<int>(raw_.size()),
                                 static_cast<int>(comp_.size()));
    CAIRN_CHECK(n > 0);
    char h[16];
    put_u32(h, static_cast<uint32_t>(raw_.size()));
    put_u32(h + 4, static_cast<uint32_t>(n));
    put_u64(h + 8, XXH64(raw_.data(), raw_.size(), 0));
    emit(h, 16);
    emit(comp_.data(), static_cast<size_t>(n));
    raw_.clear();
  }
  void emit(const char* p, size_t n) {
    if (ok_ && !sink_.write(p, n)) ok_ = false;
    written_ += n;
  }

  SnapshotSink& sink_;
  std::vector<char> raw_;
  std::vector<char> comp_;
  Xxh3Stream state_;
  uint64_t raw_total_ = 0;
  uint64_t written_ = 0;
  bool ok_ = true;
};

// Reads blocks back, checking each, and serves the raw bytes as one stream.
class BlockReader {
 public:
  explicit BlockReader(SnapshotSource& source)
      : source_(source), comp_(static_cast<size_t>(LZ4_compressBound(kSnapshotMaxBlock))) {
    raw_.resize(kSnapshotMaxBlock);
  }
  Status<SnapshotError> header() {
    char h[16];
    if (!read_fully(h, 16)) return fail("truncated: stream ends inside the 16-byte header");
    if (std::memcmp(h, kSnapshotMagic, 8) != 0) return fail("bad magic: not a cairn snapshot");
    version_ = get_u32(h + 8);
    if (version_ != 1 && version_ != kSnapshotVersion) {
      return fail("unsupported version " + std::to_string(version_) + " (this build reads 1 to " +
                  std::to_string(kSnapshotVersion) + ")");
    }
    if (get_u32(h + 12) != 0) return fail("unknown flags " + hex(get_u32(h + 12)));
    return {};
  }
  // Copies exactly n raw bytes (across blocks); an error if the stream ends or a block is bad.
  Status<SnapshotError> read(char* out, size_t n) {
    while (n > 0) {
      if (pos_ == len_) {
        auto st = next_block();
        if (!st) return st;
        if (len_ == 0) return fail("malformed: records end in the middle of an entry");
      }
      size_t take = std::min(n, len_ - pos_);
      std::memcpy(out, raw_.data() + pos_, take);
      pos_ += take;
      out += take;
      n -= take;
    }
    return {};
  }
  // Consumes n raw bytes without keeping them.
  Status<SnapshotError> skip(uint64_t n) {
    char scratch[4096];
    while (n > 0) {
      const size_t take = n < sizeof scratch ? static_cast<size_t>(n) : sizeof scratch;
      if (auto st = read(scratch, take); !st) return st;
      n -= take;
    }
    return {};
  }
  Status<SnapshotError> read_varint(uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      char c;
      auto st = read(&c, 1);
      if (!st) return st;
      auto b = static_cast<unsigned char>(c);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return {};
    }
    return fail("malformed: varint longer than 10 bytes");
  }
  // After the last record: the end marker must follow, with matching count and checksum.
  Status<SnapshotError> finish(uint64_t entries) {
    if (pos_ != len_) return fail("malformed: bytes left over after the last entry");
    auto st = next_block();
    if (!st) return st;
    if (len_ != 0) return fail("malformed: more records than the header's entry count");
    if (trailer_entries_ != entries) {
      return fail("entry count mismatch: header says " + std::to_string(entries) +
                  ", trailer says " + std::to_string(trailer_entries_));
    }
    uint64_t computed = state_.digest();
    if (computed != trailer_hash_) {
      return fail("whole-stream checksum mismatch (stored " + hex(trailer_hash_) + ", computed " +
                  hex(computed) + ")");
    }
    char extra;
    if (source_.read(&extra, 1) != 0) return fail("malformed: trailing bytes after the end marker");
    return {};
  }
  uint64_t raw_bytes() const { return raw_total_; }
  uint64_t consumed() const { return consumed_; }
  uint32_t version() const { return version_; }

 private:
  bool read_fully(char* out, size_t n) {
    while (n > 0) {
      size_t got = source_.read(out, n);
      if (got == 0) return false;
      consumed_ += got;
      out += got;
      n -= got;
    }
    return true;
  }
  // Loads the next block into raw_ (len_ = 0 for the end marker, whose trailer is then read).
  Status<SnapshotError> next_block() {
    const std::string where = "block " + std::to_string(block_) + ": ";
    char h[16];
    if (!read_fully(h, 8)) return fail(where + "truncated: stream ends before the block header");
    uint32_t raw_len = get_u32(h);
    uint32_t comp_len = get_u32(h + 4);
    pos_ = len_ = 0;
    if (raw_len == 0 && comp_len == 0) {
      char t[24];
      if (!read_fully(t, 24)) return fail("truncated: stream ends inside the end marker");
      if (std::memcmp(t + 16, kSnapshotEndMagic, 8) != 0) return fail("bad end marker");
      trailer_entries_ = get_u64(t);
      trailer_hash_ = get_u64(t + 8);
      return {};
    }
    if (raw_len == 0 || raw_len > kSnapshotMaxBlock || comp_len == 0 || comp_len > comp_.size()) {
      return fail(where + "bad lengths (raw " + std::to_string(raw_len) + ", compressed " +
                  std::to_string(comp_len) + ")");
    }
    if (!read_fully(h + 8, 8) || !read_fully(comp_.data(), comp_len))
      return fail(where + "truncated: stream ends inside the block");
    int n = LZ4_decompress_safe(comp_.data(), raw_.data(), static_cast<int>(comp_len),
                                static_cast<int>(raw_len));
    if (n != static_cast<int>(raw_len)) return fail(where + "LZ4 data is corrupt");
    uint64_t stored = get_u64(h + 8);
    uint64_t computed = XXH64(raw_.data(), raw_len, 0);
    if (stored != computed) {
      return fail(where + "checksum mismatch (stored " + hex(stored) + ", computed " +
                  hex(computed) + ")");
    }
    state_.update(raw_.data(), raw_len);
    raw_total_ += raw_len;
    len_ = raw_len;
    ++block_;
    return {};
  }

  SnapshotSource& source_;
  std::vector<char> raw_;
  std::vector<char> comp_;
  Xxh3Stream state_;
  uint32_t version_ = 0;
  size_t pos_ = 0;
  size_t len_ = 0;
  uint64_t block_ = 0;
  uint64_t trailer_entries_ = 0;
  uint64_t trailer_hash_ = 0;
  uint64_t raw_total_ = 0;
  uint64_t consumed_ = 0;
};

}  // namespace

// Friend of Engine: reads and rebuilds its private state.
class SnapshotWriter {
 public:
  // Waits for any other snapshot to end, then captures (entry, key length, expiry) for every
  // entry under the shared lock, a pointer copy; from then on apply frees no entry and rewrites no
  // value in place (Engine::snapshot_active_) until the capture is destroyed.
  static void capture(const Engine& engine, SnapshotCapture& c) {
    {
      std::unique_lock slot(engine.snapshot_mu_);
      engine.snapshot_free_.wait(slot, [&] { return !engine.snapshot_taken_; });
      engine.snapshot_taken_ = true;
    }
    std::shared_lock lock(engine.mu_);
    c.view_.reserve(engine.table_.size());
    engine.table_.for_each([&](const Entry* e) {
      c.view_.push_back({e, e->expire_ms(), e->key_len()});
    });
    c.clock_ms_ = engine.clock_ms_;
    c.sessions_.reserve(engine.sessions_.size());
    engine.sessions_.for_each([&](uint64_t id, const SessionTable::Session& session) {
      c.sessions_.emplace_back(id, session);
    });
    c.next_session_id_ = engine.sessions_.next_id();
    engine.snapshot_active_.store(true, std::memory_order_relaxed);
  }

  // Frees what apply retired while the capture was alive, and lets the next snapshot begin.
  static void end(const Engine& engine) {
    {
      std::unique_lock lock(engine.mu_);
      engine.snapshot_active_.store(false, std::memory_order_relaxed);
      for (Entry* e : engine.retired_)
        entry_free(e);
      engine.retired_ = std::vector<Entry*>();
    }
    {
      std::lock_guard slot(engine.snapshot_mu_);
      engine.snapshot_taken_ = false;
    }
    engine.snapshot_free_.notify_one();
  }

  // Streams a capture without any lock while apply goes on.
  static Result<SnapshotInfo, SnapshotError> stream(const SnapshotCapture& c, SnapshotSink& sink) {
    BlockWriter out(sink);
    out.header();
    out.append_u64(static_cast<uint64_t>(c.clock_ms_));
    out.append_u64(c.view_.size());
    for (const SnapshotCapture::View& v : c.view_) {
      const bool expiry = v.expire_ms != kNoExpiry;
      const char flags = expiry ? 1 : 0;
      // The key and value bytes and value_len are immutable while the capture lives.
      const char* key = reinterpret_cast<const char*>(v.entry + 1);
      out.append(&flags, 1);
      out.append_varint(v.key_len);
      out.append_varint(v.entry->value_len);
      if (expiry) out.append_u64(static_cast<uint64_t>(v.expire_ms));
      out.append(key, v.key_len);
      out.append(key + v.key_len, v.entry->value_len);
      if (!out.ok()) break;
    }
    out.append_u64(c.sessions_.size());
    out.append_u64(c.next_session_id_);
    for (const auto& [id, session] : c.sessions_) {
      out.append_u64(id);
      out.append_u64(static_cast<uint64_t>(session.last_active_ms));
      out.append_u64(session.floor);
      out.append_u64(session.replies.size());
      for (const auto& [seq, reply] : session.replies) {
        const std::string encoded = encode_reply(reply);
        out.append_u64(seq);
        out.append_varint(encoded.size());
        out.append(encoded.data(), encoded.size());
      }
    }
    out.finish(c.view_.size());
    if (!out.ok()) return fail("the sink failed while writing");
    return SnapshotInfo{c.view_.size(), c.sessions_.size(), out.raw_bytes(), out.written(),
                        c.clock_ms_};
  }
};

SnapshotCapture::SnapshotCapture(const Engine& engine) : engine_(engine) {
  SnapshotWriter::capture(engine, *this);
}

SnapshotCapture::~SnapshotCapture() {
  SnapshotWriter::end(engine_);
}

class SnapshotLoader {
 public:
  // Reads every record; if `engine` is set, also inserts them (exclusive lock held by caller).
  static Result<SnapshotInfo, SnapshotError> run(SnapshotSource& source, Engine* engine) {
    BlockReader in(source);
    auto st = in.header();
    if (!st) return Err(st.error());
    char fixed[16];
    if (auto s = in.read(fixed, 16); !s) return Err(s.error());
    SnapshotInfo info;
    info.clock_ms = static_cast<int64_t>(get_u64(fixed));
    info.entries = get_u64(fixed + 8);
    if (engine != nullptr) engine->clock_ms_ = info.clock_ms;
    std::string key;
    for (uint64_t i = 0; i < info.entries; ++i) {
      char flags;
      uint64_t klen = 0;
      uint64_t vlen = 0;
      if (auto s = in.read(&flags, 1); !s) return Err(s.error());
      if ((flags & ~1) != 0)
        return fail("malformed: entry " + std::to_string(i) + " has bad flags");
      if (auto s = in.read_varint(klen); !s) return Err(s.error());
      if (auto s = in.read_varint(vlen); !s) return Err(s.error());
      if (klen > kMaxKeyLen || vlen > UINT32_MAX)
        return fail("malformed: entry " + std::to_string(i) + " has impossible lengths");
      int64_t expire = kNoExpiry;
      if ((flags & 1) != 0) {
        char b[8];
        if (auto s = in.read(b, 8); !s) return Err(s.error());
        expire = static_cast<int64_t>(get_u64(b));
        if (expire > kMaxExpireMs) return fail("malformed: expiry out of range");
      }
      key.resize(klen);
      if (auto s = in.read(key.data(), klen); !s) return Err(s.error());
      if (engine == nullptr) {
        // Verifying: lengths are not trusted yet, so skip the value without allocating it.
        if (auto s = in.skip(vlen); !s) return Err(s.error());
        continue;
      }
      // Loading: the stream has been verified whole, so vlen bytes really follow; read them
      // straight into the new entry.
      Entry* e = entry_new_uninit(key, vlen);
      if (auto s = in.read(e->value_data(), vlen); !s) {
        entry_free(e);
        return Err(s.error());
      }
      insert(*engine, e, expire);
    }
    if (in.version() >= 2) {
      if (auto s = read_sessions(in, engine, info); !s) return Err(s.error());
    }
    if (auto s = in.finish(info.entries); !s) return Err(s.error());
    info.raw_bytes = in.raw_bytes();
    info.compressed_bytes = in.consumed();
    return info;
  }

  // The client session table; into `engine` when loading.
  static Status<SnapshotError> read_sessions(BlockReader& in, Engine* engine, SnapshotInfo& info) {
    char fixed[16];
    if (auto s = in.read(fixed, 16); !s) return s;
    info.sessions = get_u64(fixed);
    const uint64_t next_id = get_u64(fixed + 8);
    if (info.sessions > kMaxSessions) return fail("malformed: too many client sessions");
    if (engine != nullptr) engine->sessions_.set_next_id(next_id);
    std::string encoded;
    for (uint64_t i = 0; i < info.sessions; ++i) {
      char head[32];
      if (auto s = in.read(head, 32); !s) return s;
      const uint64_t id = get_u64(head);
      SessionTable::Session session;
      session.last_active_ms = static_cast<int64_t>(get_u64(head + 8));
      session.floor = get_u64(head + 16);
      const uint64_t replies = get_u64(head + 24);
      if (id == 0 || id >= next_id || replies > kMaxSessionReplies)
        return fail("malformed: client session " + std::to_string(i) + " is out of range");
      for (uint64_t r = 0; r < replies; ++r) {
        char seq[8];
        uint64_t len = 0;
        if (auto s = in.read(seq, 8); !s) return s;
        if (auto s = in.read_varint(len); !s) return s;
        if (len > UINT32_MAX) return fail("malformed: a session's reply has an impossible length");
        if (engine == nullptr && len > (64 << 10)) {
          if (auto s = in.skip(len); !s) return s;  // lengths are not trusted yet
          continue;
        }
        encoded.resize(len);
        if (auto s = in.read(encoded.data(), len); !s) return s;
        auto reply = decode_reply(encoded);
        if (!reply.ok()) return fail("malformed: a session's reply: " + reply.error().message);
        session.replies.emplace(get_u64(seq), std::move(*reply));
      }
      if (engine != nullptr) engine->sessions_.restore(id, std::move(session));
    }
    return {};
  }

  static Result<SnapshotInfo, SnapshotError> restore(
      Engine& engine, const std::function<std::unique_ptr<SnapshotSource>()>& open) {
    {
      std::unique_ptr<SnapshotSource> first = open();
      if (first == nullptr) return fail("cannot open the snapshot");
      auto verified = run(*first, nullptr);
      if (!verified) return verified;
    }
    std::unique_ptr<SnapshotSource> second = open();
    std::unique_lock lock(engine.mu_);
    engine.clear_all();
    engine.sessions_.clear();
    if (second == nullptr)
      return fail("cannot reopen the snapshot after verifying it; state cleared");
    auto loaded = run(*second, &engine);
    if (!loaded) {
      engine.clear_all();
      engine.sessions_.clear();
      return fail("the snapshot changed between verification and load (" + loaded.error().message +
                  "); state cleared");
    }
    engine.table_.maybe_shrink();
    return loaded;
  }

 private:
  static void insert(Engine& engine, Entry* e, int64_t expire) {
    uint64_t h = hash_key(e->key());
    Entry* old = engine.table_.find(e->key(), h);  // a valid snapshot has no duplicates
    engine.install(old, e, h, expire);
    engine.trim();  // a node with a smaller max-memory than the writer's evicts while loading
    engine.last_written_ = nullptr;
  }
};

Result<SnapshotInfo, SnapshotError> write_snapshot(const Engine& engine, SnapshotSink& sink) {
  const SnapshotCapture capture(engine);
  return SnapshotWriter::stream(capture, sink);
}

std::unique_ptr<SnapshotCapture> capture_snapshot(const Engine& engine) {
  return std::make_unique<SnapshotCapture>(engine);
}

Result<SnapshotInfo, SnapshotError> write_captured(const SnapshotCapture& capture,
                                                   SnapshotSink& sink) {
  return SnapshotWriter::stream(capture, sink);
}

Result<SnapshotInfo, SnapshotError> verify_snapshot(SnapshotSource& source) {
  return SnapshotLoader::run(source, nullptr);
}

Result<SnapshotInfo, SnapshotError> restore_snapshot(
    Engine& engine, const std::function<std::unique_ptr<SnapshotSource>()>& open) {
  return SnapshotLoader::restore(engine, open);
}

}  // namespace cairn::cache
