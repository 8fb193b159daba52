// The client session table (see sessions.h). Apply thread, exclusive lock held.
#include "cache/sessions.h"

#include <string>

namespace cairn::cache {
namespace {

Reply refuse(std::string why) {
  return Error{ErrorCode::kSession,
               std::string(kErrSessionPrefix) + std::move(why) + "; this attempt was not applied"};
}

// Per session: its map node and activity index entry.
constexpr uint64_t kSessionOverhead = 160;
// Per kept answer: its map node.
constexpr uint64_t kReplyOverhead = 80;

}  // namespace

uint64_t SessionTable::reply_size(const Reply& r) {
  const auto* b = std::get_if<Bytes>(&r);
  const auto* e = std::get_if<Error>(&r);
  return kReplyOverhead + (b != nullptr ? b->size() : 0) + (e != nullptr ? e->message.size() : 0);
}

uint64_t SessionTable::bytes() const {
  return sessions_.size() * kSessionOverhead + reply_bytes_;
}

uint64_t SessionTable::open(int64_t now_ms) {
  expire(now_ms);
  while (sessions_.size() >= kMaxSessions)
    forget(by_activity_.begin()->second);
  const uint64_t id = next_id_++;
  Session& s = sessions_[id];
  s.last_active_ms = now_ms;
  by_activity_.insert({now_ms, id});
  return id;
}

std::optional<Reply> SessionTable::begin_write(uint64_t session, uint64_t seq, uint64_t acked,
                                               int64_t now_ms) {
  auto it = sessions_.find(session);
  if (it == sessions_.end())
    return refuse("client session " + std::to_string(session) + " is unknown or has expired");
  Session& s = it->second;
  touch(session, s, now_ms);
  if (seq == 0) return refuse("write numbers start at 1");
  // Answers the client has: forget them.
  if (acked > s.floor) {
    while (!s.replies.empty() && s.replies.begin()->first < acked)
      drop_oldest(s);
    s.floor = acked;
  }
  if (seq < s.floor) {
    return refuse("the answer to write " + std::to_string(seq) + " of client session " +
                  std::to_string(session) + " is no longer kept");
  }
  if (auto r = s.replies.find(seq); r != s.replies.end()) {
    ++repeats_;
    return r->second;
  }
  return std::nullopt;
}

void SessionTable::record(uint64_t session, uint64_t seq, const Reply& reply) {
  auto it = sessions_.find(session);
  if (it == sessions_.end()) return;
  Session& s = it->second;
  const uint64_t size = reply_size(reply);
  s.replies.emplace(seq, reply);
  s.reply_bytes += size;
  reply_bytes_ += size;
  while (s.replies.size() > kMaxSessionReplies) {
    // The oldest goes; nothing below it may be applied again, answered or not.
    s.floor = s.replies.begin()->first + 1;
    drop_oldest(s);
  }
}

void SessionTable::drop_oldest(Session& s) {
  const auto oldest = s.replies.begin();
  const uint64_t size = reply_size(oldest->second);
  s.reply_bytes -= size;
  reply_bytes_ -= size;
  s.replies.erase(oldest);
}

void SessionTable::expire(int64_t now_ms) {
  while (!by_activity_.empty() && by_activity_.begin()->first <= now_ms - kSessionIdleMs)
    forget(by_activity_.begin()->second);
}

void SessionTable::clear() {
  sessions_.clear();
  by_activity_.clear();
  next_id_ = 1;
  reply_bytes_ = 0;
}

void SessionTable::restore(uint64_t id, Session s) {
  s.reply_bytes = 0;
  for (const auto& [seq, r] : s.replies)
    s.reply_bytes += reply_size(r);
  by_activity_.insert({s.last_active_ms, id});
  reply_bytes_ += s.reply_bytes;
  sessions_[id] = std::move(s);
}

void SessionTable::forget(uint64_t id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  by_activity_.erase({it->second.last_active_ms, id});
  reply_bytes_ -= it->second.reply_bytes;
  sessions_.erase(it);
}

void SessionTable::touch(uint64_t id, Session& s, int64_t now_ms) {
  // Activity is kept to the second: idleness is judged in minutes, and a busy session's writes
  // then move it in the activity index once a second, not at every write.
  if (now_ms - s.last_active_ms < kActivityStepMs) return;
  by_activity_.erase({s.last_active_ms, id});
  s.last_active_ms = now_ms;
  by_activity_.insert({now_ms, id});
}

}  // namespace cairn::cache
