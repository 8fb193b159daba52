// Snapshots of the whole engine state for Raft: streamed out through a sink and back in from a
// source, versioned, LZ4-compressed block by block, checksummed with XXH64 per block and XXH3 over
// the whole stream. The byte format is in docs/cache.md ("Snapshot format").
//
// Threading: a snapshot is a capture of the list of entries, taken under the shared lock (a
// pointer copy), then streamed without the lock while apply goes on: until the capture is
// destroyed, apply frees no entry and rewrites no value in place (Engine::release, block_for), so
// the captured entries stay intact. The two steps may run on different threads: the node captures
// between two applies (so the capture is exactly the applied state) and streams on a thread of its
// own. One capture lives at a time; a second waits for the first to end. restore_snapshot
// verifies without any lock, then loads under the exclusive lock.
//
// Memory: neither direction materializes the snapshot: the writer holds the captured list
// (24 bytes per key), one raw and one compressed block (1 MiB each at most), and the entries apply
// replaced or deleted while it streamed (freed at its end); the loader verifies the whole stream
// first (one pass, two block buffers), and only then clears the engine and loads entries straight
// into it, so the peak is the new state plus two blocks, never old state + new state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cache/sessions.h"
#include "common/result.h"

namespace cairn::cache {

class Engine;
struct Entry;

inline constexpr char kSnapshotMagic[8] = {'C', 'A', 'I', 'R', 'N', 'S', 'N', 'P'};
inline constexpr char kSnapshotEndMagic[8] = {'C', 'A', 'I', 'R', 'N', 'E', 'N', 'D'};
// Version 2 adds the client session table after the entries; version 1 streams still load (with
// no sessions).
inline constexpr uint32_t kSnapshotVersion = 2;
inline constexpr uint32_t kSnapshotMaxBlock = 1 << 20;  // raw bytes per block

struct SnapshotError {
  std::string message;  // e.g. "snapshot block 3: checksum mismatch (stored 0x.., computed 0x..)"
};

class SnapshotSink {
 public:
  virtual ~SnapshotSink() = default;
  // Writes all n bytes or returns false.
  virtual bool write(const char* data, size_t n) = 0;
};

class SnapshotSource {
 public:
  virtual ~SnapshotSource() = default;
  // Reads up to n bytes; returns how many (0 only at the end of the stream).
  virtual size_t read(char* out, size_t n) = 0;
};

// In-memory sink/source (tests, small states).
class StringSink final : public SnapshotSink {
 public:
  bool write(const char* data, size_t n) override {
    out.append(data, n);
    return true;
  }
  std::string out;
};
class StringSource final : public SnapshotSource {
 public:
  explicit StringSource(std::string_view data) : data_(data) {}
  size_t read(char* out, size_t n) override;

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

struct SnapshotInfo {
  uint64_t entries = 0;
  uint64_t sessions = 0;
  uint64_t raw_bytes = 0;         // uncompressed record bytes
  uint64_t compressed_bytes = 0;  // bytes written to the sink
  int64_t clock_ms = 0;
};

// Streams the engine's state (entries, expiries, replicated clock) to the sink: a capture, then
// write_captured.
Result<SnapshotInfo, SnapshotError> write_snapshot(const Engine& engine, SnapshotSink& sink);

// The engine's state at one moment, for write_captured. Taken on any thread (waiting while another
// capture lives); the engine must outlive it.
class SnapshotCapture {
 public:
  explicit SnapshotCapture(const Engine& engine);
  ~SnapshotCapture();
  SnapshotCapture(const SnapshotCapture&) = delete;
  SnapshotCapture& operator=(const SnapshotCapture&) = delete;

  size_t entries() const { return view_.size(); }

 private:
  friend class SnapshotWriter;
  struct View {
    const Entry* entry;
    int64_t expire_ms;  // captured: a set_expiry may rewrite the entry's own while it streams
    size_t key_len;
  };
  const Engine& engine_;
  std::vector<View> view_;
  int64_t clock_ms_ = 0;
  // The session table is small (bounded by sessions.h) and copied whole.
  std::vector<std::pair<uint64_t, SessionTable::Session>> sessions_;
  uint64_t next_session_id_ = 1;
};

std::unique_ptr<SnapshotCapture> capture_snapshot(const Engine& engine);
// Streams a capture to the sink; any thread, while apply goes on. A capture may be written more
// than once.
Result<SnapshotInfo, SnapshotError> write_captured(const SnapshotCapture& capture,
                                                   SnapshotSink& sink);

// Checks a whole snapshot stream (format, every checksum, record structure) without loading it.
Result<SnapshotInfo, SnapshotError> verify_snapshot(SnapshotSource& source);

// Replaces the engine's state with the snapshot's. `open` is called twice: once to verify the
// whole stream, and, only if it is valid, again to load it. On a verification error the engine is
// untouched. If the second pass fails anyway (the source changed in between), the engine is left
// empty and the error says so: never a half-loaded state.
Result<SnapshotInfo, SnapshotError> restore_snapshot(
    Engine& engine, const std::function<std::unique_ptr<SnapshotSource>()>& open);

}  // namespace cairn::cache
