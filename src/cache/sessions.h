// Client sessions: exactly-once writes for clients that retry (Raft thesis §6.3). A client opens a
// session through the log (OpenSession), then numbers its writes 1, 2, 3, ... within it. The
// state machine keeps each session's answers until the client says it has them, so a write that
// arrives again - resent after a timeout, a leader change or a lost connection, or duplicated on
// the way - is not applied again: the repeat gets the first answer.
//
// Everything here is replicated state: every replica applies the same OpenSession and
// SessionWrite commands at the same replicated clock and so holds the same table. That is why the
// bounds are constants and not a node's flags (two nodes with different limits would forget
// different answers), and why a session's idleness is measured on the engine's replicated clock.
// The table travels in snapshots (snapshot.cc).
//
// Bounds: at most kMaxSessions sessions (opening one more forgets the least recently active), a
// session idle for kSessionIdleMs is forgotten, and a session keeps at most kMaxSessionReplies
// answers not yet acknowledged (the oldest is forgotten first). A forgotten answer is never
// replaced by applying the write again: its repeat is refused with a "session" error
// (kErrSessionPrefix), which tells the client the first outcome is unknown.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

#include "cache/command.h"

namespace cairn::cache {

inline constexpr uint64_t kMaxSessions = 10'000;
inline constexpr int64_t kSessionIdleMs = 30 * 60 * 1000;
inline constexpr size_t kMaxSessionReplies = 1024;
inline constexpr int64_t kActivityStepMs = 1000;  // a session's activity is recorded to this

class SessionTable {
 public:
  struct Session {
    int64_t last_active_ms = 0;
    // Sequence numbers below `floor` are answered and acknowledged, or forgotten.
    uint64_t floor = 1;
    std::map<uint64_t, Reply> replies;  // by sequence number, answers kept for repeats
    uint64_t reply_bytes = 0;
  };

  // Opens a session at replicated time `now_ms`: forgets idle sessions and, when the table is
  // full, the least recently active one. Returns the new session's id (never 0).
  uint64_t open(int64_t now_ms);

  // The start of a session write: the answer the client must get without applying the command
  // (the first answer of a repeat, or a refusal), or nullopt when the command is new and must be
  // applied, after which record() keeps its answer. `acked`: every sequence number below it has
  // been answered to the client, whose answers can go.
  std::optional<Reply> begin_write(uint64_t session, uint64_t seq, uint64_t acked, int64_t now_ms);
  void record(uint64_t session, uint64_t seq, const Reply& reply);

  // Forgets sessions idle for kSessionIdleMs at `now_ms` (a Tick calls it).
  void expire(int64_t now_ms);

  size_t size() const { return sessions_.size(); }
  // Writes answered from the table instead of applied again (this replica's count).
  uint64_t repeats() const { return repeats_; }
  uint64_t next_id() const { return next_id_; }
  // Memory held, counted in the engine's used memory.
  uint64_t bytes() const;
  // Snapshots: the whole table in id order, and back.
  template <typename Fn>
  void for_each(Fn&& fn) const {
    for (const auto& [id, s] : sessions_)
      fn(id, s);
  }
  void clear();
  void set_next_id(uint64_t id) { next_id_ = id; }
  // Restores one session (a snapshot's); ids must not repeat.
  void restore(uint64_t id, Session s);

 private:
  void forget(uint64_t id);
  void touch(uint64_t id, Session& s, int64_t now_ms);
  void drop_oldest(Session& s);  // forgets the session's oldest kept answer
  static uint64_t reply_size(const Reply& r);

  std::map<uint64_t, Session> sessions_;  // ordered: snapshots list sessions in id order
  std::set<std::pair<int64_t, uint64_t>> by_activity_;  // (last_active_ms, id)
  uint64_t next_id_ = 1;
  uint64_t reply_bytes_ = 0;
  uint64_t repeats_ = 0;
};

// The text of every refusal starts with this word, so clients can tell it from a command's error.
inline constexpr std::string_view kErrSessionPrefix = "SESSION ";

}  // namespace cairn::cache
