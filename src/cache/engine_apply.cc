// The command handlers of the Engine: one function per command, Redis semantics (t_string.c,
// expire.c), time taken only from the replicated clock. Apply thread, exclusive lock held.
#include <cmath>
#include <cstring>
#include <type_traits>

#include "cache/codec.h"
#include "cache/engine.h"
#include "cache/strings.h"

namespace cairn::cache {
namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

int64_t expiry_node_delta(bool had, bool has) {
  if (had == has) return 0;
  return has ? 64 : -64;  // one ExpiryIndex tree node
}

}  // namespace

std::string_view command_name(const Command& cmd) {
  static constexpr std::string_view kNames[] = {
      "set",      "del",    "flushdb", "expire", "persist", "incrby",  "incrbyfloat", "append",
      "setrange", "getdel", "getex",   "cas",    "tick",    "evict",   "mset",        "session",
      "session",  "rename", "copy",    "setbit", "bitop",   "bitfield"};
  static_assert(std::size(kNames) == std::variant_size_v<Command>);
  return kNames[cmd.index()];
}

Reply Engine::dispatch(const Command& cmd) {
  return std::visit(Overloaded{
                        [&](const Put& c) { return do_put(c); },
                        [&](const Delete& c) { return do_delete(c); },
                        [&](const Clear&) { return do_clear(); },
                        [&](const Expire& c) { return do_expire(c); },
                        [&](const Persist& c) { return do_persist(c); },
                        [&](const IncrBy& c) { return do_incrby(c); },
                        [&](const IncrByFloat& c) { return do_incrbyfloat(c); },
                        [&](const Append& c) { return do_append(c); },
                        [&](const SetRange& c) { return do_setrange(c); },
                        [&](const GetDel& c) { return do_getdel(c); },
                        [&](const GetEx& c) { return do_getex(c); },
                        [&](const CompareAndSet& c) { return do_cas(c); },
                        [&](const Tick&) {
                          sessions_.expire(clock_ms_);
                          return Reply{Ok{}};
                        },
                        [&](const Evict& c) { return do_evict(c); },
                        [&](const PutMany& c) { return do_put_many(c); },
                        [&](const OpenSession&) {
                          return Reply{static_cast<int64_t>(sessions_.open(clock_ms_))};
                        },
                        [&](const SessionWrite& c) { return do_session_write(c); },
                        [&](const Rename& c) { return do_rename(c); },
                        [&](const Copy& c) { return do_copy(c); },
                        [&](const SetBit& c) { return do_setbit(c); },
                        [&](const BitOp& c) { return do_bitop(c); },
                        [&](const BitField& c) { return do_bitfield(c); },
                    },
                    cmd);
}

Reply Engine::do_put(const Put& c) {
  if (auto err = check_sizes(c.key, c.value.size())) return *err;
  auto at = resolve(c.expiry, true, "set");
  if (!at) return at.error();
  auto [old, h] = find_live(c.key);
  Reply reply = Ok{};
  if (c.get_old) reply = old != nullptr ? Reply{Bytes(old->value())} : Reply{Nil{}};
  if (c.condition == PutCondition::kIfAbsent && old != nullptr) return c.get_old ? reply : Nil{};
  if (c.condition == PutCondition::kIfPresent && old == nullptr) return Nil{};
  int64_t expire = *at;
  if (c.expiry.kind == Expiry::Kind::kKeep) expire = old != nullptr ? old->expire_ms() : kNoExpiry;
  if (expire != kNoExpiry && expire <= clock_ms_) {
    // Already in the past (SET ... PXAT <past>): the key ends up absent, as in Redis.
    if (old != nullptr) remove(old, h, Removal::kDelete);
    return reply;
  }
  int64_t need = static_cast<int64_t>(entry_footprint(c.key.size(), c.value.size())) -
                 (old != nullptr ? static_cast<int64_t>(entry_footprint(old)) : 0) +
                 expiry_node_delta(old != nullptr && old->has_expiry(), expire != kNoExpiry);
  if (!reserve(need, old)) return oom();
  install(old, block_for(old, c.key, c.value), h, expire);
  return reply;
}

// All or nothing up to memory: every size is checked, MSETNX's keys looked up and the room for
// the whole command made (evicting if the policy allows) before the first key is written, so an
// error leaves the keyspace as it was. The pairs are then set in order.
Reply Engine::do_put_many(const PutMany& c) {
  const auto& kv = c.keys_and_values;
  for (size_t i = 0; i + 1 < kv.size(); i += 2)
    if (auto err = check_sizes(kv[i], kv[i + 1].size())) return *err;
  if (c.if_none_exist) {
    for (size_t i = 0; i + 1 < kv.size(); i += 2)
      if (find_live(kv[i]).entry != nullptr) return int64_t{0};
  }
  int64_t need = 0;
  for (size_t i = 0; i + 1 < kv.size(); i += 2) {
    const Entry* old = find_live(kv[i]).entry;
    need += static_cast<int64_t>(entry_footprint(kv[i].size(), kv[i + 1].size())) -
            (old != nullptr ? static_cast<int64_t>(entry_footprint(old)) : 0) +
            expiry_node_delta(old != nullptr && old->has_expiry(), false);
  }
  if (!reserve(need, nullptr)) return oom();
  for (size_t i = 0; i + 1 < kv.size(); i += 2) {
    auto [old, h] = find_live(kv[i]);
    install(old, block_for(old, kv[i], kv[i + 1]), h, kNoExpiry);
  }
  if (c.if_none_exist) return int64_t{1};
  return Ok{};
}

Reply Engine::do_delete(const Delete& c) {
  int64_t n = 0;
  for (const Bytes& key : c.keys) {
    auto [e, h] = find_live(key);
    if (e == nullptr) continue;
    remove(e, h, Removal::kDelete);
    ++n;
  }
  table_.maybe_shrink();
  return n;
}

Reply Engine::do_evict(const Evict& c) {
  int64_t n = 0;
  for (const Bytes& key : c.keys) {
    uint64_t h = hash_key(key);
    Entry* e = table_.find(key, h);
    if (e == nullptr) continue;
    remove(e, h, Removal::kEvict);
    ++n;
  }
  table_.maybe_shrink();
  return n;
}

Reply Engine::do_clear() {
  clear_all();
  return Ok{};
}

Reply Engine::do_expire(const Expire& c) {
  auto at = resolve(c.expiry, false, "expire");
  if (!at) return at.error();
  auto [e, h] = find_live(c.key);
  if (e == nullptr) return int64_t{0};
  const bool has = e->has_expiry();
  const int64_t cur = e->expire_ms();
  switch (c.condition) {
    case ExpireCondition::kAlways:
      break;
    case ExpireCondition::kNx:
      if (has) return int64_t{0};
      break;
    case ExpireCondition::kXx:
      if (!has) return int64_t{0};
      break;
    case ExpireCondition::kGt:  // no expiry counts as infinite: never greater
      if (!has || *at <= cur) return int64_t{0};
      break;
    case ExpireCondition::kLt:
      if (has && *at >= cur) return int64_t{0};
      break;
    case ExpireCondition::kXxLt:
      if (!has || *at >= cur) return int64_t{0};
      break;
  }
  if (*at <= clock_ms_) {
    remove(e, h, Removal::kDelete);
    return int64_t{1};
  }
  if (!has && !reserve(expiry_node_delta(false, true), e)) return oom();
  set_expiry(e, *at);
  return int64_t{1};
}

Reply Engine::do_persist(const Persist& c) {
  auto [e, h] = find_live(c.key);
  if (e == nullptr || !e->has_expiry()) return int64_t{0};
  set_expiry(e, kNoExpiry);
  return int64_t{1};
}

Reply Engine::do_incrby(const IncrBy& c) {
  if (auto err = check_sizes(c.key, 0)) return *err;
  auto [e, h] = find_live(c.key);
  int64_t value = 0;
  if (e != nullptr) {
    auto parsed = parse_int64(e->value());
    if (!parsed) return Error{ErrorCode::kNotInteger, std::string(kErrNotInteger)};
    value = *parsed;
  }
  const int64_t d = c.delta;
  if ((d < 0 && value < 0 && d < INT64_MIN - value) ||
      (d > 0 && value > 0 && d > INT64_MAX - value)) {
    return Error{ErrorCode::kOverflow, std::string(kErrOverflow)};
  }
  value += d;
  std::string text = format_int64(value);
  int64_t need = static_cast<int64_t>(entry_footprint(c.key.size(), text.size())) -
                 (e != nullptr ? static_cast<int64_t>(entry_footprint(e)) : 0);
  if (!reserve(need, e)) return oom();
  install(e, block_for(e, c.key, text), h, e != nullptr ? e->expire_ms() : kNoExpiry);
  return value;
}

Reply Engine::do_incrbyfloat(const IncrByFloat& c) {
  if (auto err = check_sizes(c.key, 0)) return *err;
  auto [e, h] = find_live(c.key);
  long double value = 0;
  if (e != nullptr) {
    auto parsed = parse_long_double(e->value());
    if (!parsed) return Error{ErrorCode::kNotFloat, std::string(kErrNotFloat)};
    value = *parsed;
  }
  auto delta = parse_long_double(c.delta);
  if (!delta) return Error{ErrorCode::kNotFloat, std::string(kErrNotFloat)};
  value += *delta;
  if (std::isnan(value) || std::isinf(value))
    return Error{ErrorCode::kNanOrInfinity, std::string(kErrNanOrInfinity)};
  std::string text = format_long_double(value);
  int64_t need = static_cast<int64_t>(entry_footprint(c.key.size(), text.size())) -
                 (e != nullptr ? static_cast<int64_t>(entry_footprint(e)) : 0);
  if (!reserve(need, e)) return oom();
  install(e, block_for(e, c.key, text), h, e != nullptr ? e->expire_ms() : kNoExpiry);
  return Bytes(text);
}

Reply Engine::do_append(const Append& c) {
  auto [e, h] = find_live(c.key);
  const size_t old_len = e != nullptr ? e->value_len : 0;
  if (c.value.size() >
      config_.max_value_bytes - std::min<uint64_t>(old_len, config_.max_value_bytes))
    return Error{ErrorCode::kValueTooLarge, std::string(kErrStringTooLong)};
  if (auto err = check_sizes(c.key, 0)) return *err;
  const size_t len = old_len + c.value.size();
  int64_t need = static_cast<int64_t>(entry_footprint(c.key.size(), len)) -
                 (e != nullptr ? static_cast<int64_t>(entry_footprint(e)) : 0);
  if (!reserve(need, e)) return oom();
  Entry* fresh = entry_new_uninit(c.key, len);
  if (old_len > 0) std::memcpy(fresh->value_data(), e->value_data(), old_len);
  if (!c.value.empty()) std::memcpy(fresh->value_data() + old_len, c.value.data(), c.value.size());
  install(e, fresh, h, e != nullptr ? e->expire_ms() : kNoExpiry);
  return static_cast<int64_t>(len);
}

Reply Engine::do_setrange(const SetRange& c) {
  if (c.offset < 0) return Error{ErrorCode::kOffsetOutOfRange, std::string(kErrOffset)};
  auto [e, h] = find_live(c.key);
  const size_t old_len = e != nullptr ? e->value_len : 0;
  if (c.value.empty()) return static_cast<int64_t>(old_len);  // no key is created either
  const auto offset = static_cast<uint64_t>(c.offset);
  if (offset > config_.max_value_bytes || c.value.size() > config_.max_value_bytes - offset) {
    // offset + length would exceed the limit (and may not even fit in 64 bits).
    return Error{ErrorCode::kValueTooLarge, std::string(kErrStringTooLong)};
  }
  if (auto err = check_sizes(c.key, 0)) return *err;
  const size_t len = std::max<size_t>(old_len, offset + c.value.size());
  int64_t need = static_cast<int64_t>(entry_footprint(c.key.size(), len)) -
                 (e != nullptr ? static_cast<int64_t>(entry_footprint(e)) : 0);
  if (!reserve(need, e)) return oom();
  Entry* fresh = entry_new_uninit(c.key, len);
  char* out = fresh->value_data();
  std::memset(out, 0, len);
  if (old_len > 0) std::memcpy(out, e->value_data(), old_len);
  std::memcpy(out + offset, c.value.data(), c.value.size());
  install(e, fresh, h, e != nullptr ? e->expire_ms() : kNoExpiry);
  return static_cast<int64_t>(len);
}

Reply Engine::do_getdel(const GetDel& c) {
  auto [e, h] = find_live(c.key);
  if (e == nullptr) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return Nil{};
  }
  hits_.fetch_add(1, std::memory_order_relaxed);
  Bytes value(e->value());
  remove(e, h, Removal::kDelete);
  table_.maybe_shrink();
  return value;
}

// RENAME/RENAMENX and COPY (Redis's renameGenericCommand, copyCommand): the value and expiry of
// `from` land in a new entry for `to`; any old `to` is replaced (place_copy). A rename frees `from`
// right after, so it needs room only for a longer key (Redis never refuses RENAME for memory
// either; COPY it does).
Reply Engine::do_rename(const Rename& c) {
  auto [from, from_hash] = find_live(c.from);
  if (from == nullptr) return Error{ErrorCode::kNoSuchKey, std::string(kErrNoSuchKey)};
  if (c.from == c.to) return c.if_absent ? Reply{int64_t{0}} : Reply{Ok{}};
  if (c.if_absent && find_live(c.to).entry != nullptr) return int64_t{0};
  const int64_t freed =
      static_cast<int64_t>(entry_footprint(from)) + expiry_node_delta(false, from->has_expiry());
  if (auto refused = place_copy(from, c.to, freed)) return *refused;
  remove(from, from_hash, Removal::kDelete);  // kept out of eviction by place_copy
  table_.maybe_shrink();
  return c.if_absent ? Reply{int64_t{1}} : Reply{Ok{}};
}

Reply Engine::do_copy(const Copy& c) {
  const Entry* from = find_live(c.from).entry;
  if (from == nullptr || c.from == c.to) return int64_t{0};
  if (!c.replace && find_live(c.to).entry != nullptr) return int64_t{0};
  if (auto refused = place_copy(from, c.to, 0)) return *refused;
  return int64_t{1};
}

// Writes a copy of live entry `from` (value and expiry) at `to_key`, another key, replacing it;
// `freed`: bytes the caller frees right after. Nothing when done; else the refusal (key too long,
// no room). `from` is never evicted to make the room.
std::optional<Reply> Engine::place_copy(const Entry* from, std::string_view to_key, int64_t freed) {
  if (auto err = check_sizes(to_key, from->value_len)) return *err;
  const Entry* old = find_live(to_key).entry;
  const int64_t need = static_cast<int64_t>(entry_footprint(to_key.size(), from->value_len)) -
                       (old != nullptr ? static_cast<int64_t>(entry_footprint(old)) : 0) +
                       expiry_node_delta(old != nullptr && old->has_expiry(), from->has_expiry()) -
                       freed;
  if (!reserve(need, from)) return oom();
  auto [to, h] = find_live(to_key);  // making room may have evicted the old one
  install(to, entry_new(to_key, from->value()), h, from->expire_ms());
  return std::nullopt;
}

// SETBIT (Redis's setbitCommand): a bit inside the value is flipped in place when no snapshot
// may be reading the block (as block_for), so a big bitmap costs O(1) per bit; a bit past the end
// grows the value with zero bytes into a new block.
Reply Engine::do_setbit(const SetBit& c) {
  if (!bit_offset_fits(c.offset, config_.max_value_bytes))
    return Error{ErrorCode::kBitOffset, std::string(kErrBitOffset)};
  if (auto err = check_sizes(c.key, 0)) return *err;
  auto [e, h] = find_live(c.key);
  const size_t old_len = e != nullptr ? e->value_len : 0;
  const auto byte = static_cast<size_t>(c.offset >> 3);
  const auto mask = static_cast<uint8_t>(0x80u >> (c.offset & 7));
  const bool old_bit = byte < old_len && (static_cast<uint8_t>(e->value_data()[byte]) & mask) != 0;
  const auto with_bit = [&](char b) {
    return static_cast<char>(c.bit ? static_cast<uint8_t>(b) | mask
                                   : static_cast<uint8_t>(b) & static_cast<uint8_t>(~mask));
  };
  if (byte < old_len && !snapshot_active_.load(std::memory_order_relaxed)) {
    e->value_data()[byte] = with_bit(e->value_data()[byte]);
    install(e, e, h, e->expire_ms());
    return int64_t{old_bit};
  }
  Entry* fresh = zero_extended(e, c.key, std::max(old_len, byte + 1));
  if (fresh == nullptr) return oom();
  fresh->value_data()[byte] = with_bit(fresh->value_data()[byte]);
  install(e, fresh, h, e != nullptr ? e->expire_ms() : kNoExpiry);
  return int64_t{old_bit};
}

// A new block for `key`: e's value (none if e is null) followed by zero bytes up to `len`, once
// the room for it is made; nullptr if it cannot be (the caller answers OOM). e is never evicted.
Entry* Engine::zero_extended(Entry* e, std::string_view key, size_t len) {
  const size_t old_len = e != nullptr ? e->value_len : 0;
  const int64_t need = static_cast<int64_t>(entry_footprint(key.size(), len)) -
                       (e != nullptr ? static_cast<int64_t>(entry_footprint(e)) : 0);
  if (!reserve(need, e)) return nullptr;
  Entry* fresh = entry_new_uninit(key, len);
  char* out = fresh->value_data();
  std::memset(out + old_len, 0, len - old_len);
  if (old_len > 0) std::memcpy(out, e->value_data(), old_len);
  return fresh;
}

// BITOP (Redis's bitopCommand): the result replaces `dest` without an expiry, or deletes it when
// every source is empty or missing. Sources are read before any room is made, so evicting one of
// them cannot change the result.
Reply Engine::do_bitop(const BitOp& c) {
  std::vector<std::string_view> sources;
  sources.reserve(c.sources.size());
  for (const Bytes& key : c.sources) {
    const Entry* e = find_live(key).entry;
    sources.push_back(e != nullptr ? e->value() : std::string_view());
  }
  const Bytes result = bit_op(c.op, sources);
  auto [old, h] = find_live(c.dest);
  if (result.empty()) {
    if (old != nullptr) {
      remove(old, h, Removal::kDelete);
      table_.maybe_shrink();
    }
    return int64_t{0};
  }
  if (auto err = check_sizes(c.dest, result.size())) return *err;
  const int64_t need = static_cast<int64_t>(entry_footprint(c.dest.size(), result.size())) -
                       (old != nullptr ? static_cast<int64_t>(entry_footprint(old)) : 0) +
                       expiry_node_delta(old != nullptr && old->has_expiry(), false);
  if (!reserve(need, old)) return oom();
  install(old, block_for(old, c.dest, result), h, kNoExpiry);
  return static_cast<int64_t>(result.size());
}

namespace {

Array bitfield_answers(const std::vector<std::optional<int64_t>>& results) {
  Array a;
  a.items.reserve(results.size());
  for (const auto& r : results) {
    if (r) {
      a.items.emplace_back(*r);
    } else {
      a.items.emplace_back(Nil{});
    }
  }
  return a;
}

}  // namespace

// BITFIELD (Redis's bitfieldGeneric): the value first grows to cover every write, then the ops
// run in order on it, in place under the same rule as SETBIT. Only GETs: a read of the value.
Reply Engine::do_bitfield(const BitField& c) {
  for (const BitFieldOp& op : c.ops)
    if (!bit_offset_fits(op.offset, config_.max_value_bytes))
      return Error{ErrorCode::kBitOffset, std::string(kErrBitOffset)};
  const uint64_t reach = bit_field_reach(c.ops);
  auto [e, h] = find_live(c.key);
  if (reach == 0) {
    return bitfield_answers(bit_field_get(e != nullptr ? e->value() : std::string_view(), c.ops));
  }
  if (auto err = check_sizes(c.key, 0)) return *err;
  const size_t old_len = e != nullptr ? e->value_len : 0;
  if (reach <= old_len && !snapshot_active_.load(std::memory_order_relaxed)) {
    Array answers = bitfield_answers(bit_field(e->value_data(), old_len, c.ops));
    install(e, e, h, e->expire_ms());
    return answers;
  }
  const size_t len = std::max<size_t>(old_len, reach);
  Entry* fresh = zero_extended(e, c.key, len);
  if (fresh == nullptr) return oom();
  Array answers = bitfield_answers(bit_field(fresh->value_data(), len, c.ops));
  install(e, fresh, h, e != nullptr ? e->expire_ms() : kNoExpiry);
  return answers;
}

Reply Engine::do_getex(const GetEx& c) {
  auto at = resolve(c.expiry, true, "getex");
  if (!at) return at.error();
  auto [e, h] = find_live(c.key);
  if (e == nullptr) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return Nil{};
  }
  hits_.fetch_add(1, std::memory_order_relaxed);
  policy_->on_access(e);
  Bytes value(e->value());
  switch (c.expiry.kind) {
    case Expiry::Kind::kNone:
    case Expiry::Kind::kKeep:
      break;
    case Expiry::Kind::kPersist:
      if (e->has_expiry()) set_expiry(e, kNoExpiry);
      break;
    case Expiry::Kind::kRelative:
    case Expiry::Kind::kAbsolute:
      if (*at <= clock_ms_) {
        remove(e, h, Removal::kDelete);
      } else {
        if (!e->has_expiry() && !reserve(expiry_node_delta(false, true), e)) return oom();
        set_expiry(e, *at);
      }
      break;
  }
  return value;
}

Reply Engine::do_cas(const CompareAndSet& c) {
  if (auto err = check_sizes(c.key, c.value.size())) return *err;
  auto at = resolve(c.expiry, true, "cas");
  if (!at) return at.error();
  auto [e, h] = find_live(c.key);
  if (e == nullptr || e->value() != std::string_view(c.expected)) return int64_t{0};
  int64_t expire = c.expiry.kind == Expiry::Kind::kKeep ? e->expire_ms() : *at;
  if (expire != kNoExpiry && expire <= clock_ms_) {
    remove(e, h, Removal::kDelete);
    return int64_t{1};
  }
  int64_t need = static_cast<int64_t>(entry_footprint(c.key.size(), c.value.size())) -
                 static_cast<int64_t>(entry_footprint(e)) +
                 expiry_node_delta(e->has_expiry(), expire != kNoExpiry);
  if (!reserve(need, e)) return oom();
  install(e, block_for(e, c.key, c.value), h, expire);
  return int64_t{1};
}

// A client's numbered write: applied once, its reply kept for a repeat (sessions.h). Only a
// client's own writes may travel in a session: not time, eviction or another session command.
Reply Engine::do_session_write(const SessionWrite& c) {
  if (auto first = sessions_.begin_write(c.session, c.seq, c.acked, clock_ms_)) return *first;
  Reply reply;
  // Into reused strings: a stream of a session's SETs allocates nothing here.
  const Command& inner = session_scratch_.command;
  if (auto st = decode_entry_into(c.command, session_scratch_); !st.ok()) {
    reply = Error{ErrorCode::kSession, std::string(kErrSessionPrefix) +
                                           "the write does not decode: " + st.error().message};
  } else if (std::holds_alternative<Tick>(inner) || std::holds_alternative<Evict>(inner) ||
             std::holds_alternative<OpenSession>(inner) ||
             std::holds_alternative<SessionWrite>(inner)) {
    reply = Error{ErrorCode::kSession, std::string(kErrSessionPrefix) + "a " +
                                           std::string(command_name(inner)) +
                                           " command cannot be a session's write"};
  } else {
    reply = dispatch(inner);
  }
  sessions_.record(c.session, c.seq, reply);
  return reply;
}

}  // namespace cairn::cache
