// The cache engine's own command and reply types: what the Raft log carries into the state machine
// and what applying an entry answers. Owned by src/cache; the node layer translates network and
// RESP commands into these. Plain values: thread-compatible.
//
// Time rule: no command reads a clock. Every apply receives the entry's time (milliseconds since
// the Unix epoch, stamped by the leader when it proposed the entry); relative TTLs are resolved
// against the engine's replicated clock at apply, so every replica computes the same absolute
// expiry.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cache/bits.h"

namespace cairn::cache {

// Keys and values are bytes; std::string is only the container.
using Bytes = std::string;

// How a write sets the expiry of the key it writes.
struct Expiry {
  enum class Kind : uint8_t {
    kNone,      // no expiry (a Put clears any previous one)
    kKeep,      // keep the key's current expiry (SET KEEPTTL); for GetEx: leave it alone
    kPersist,   // GetEx PERSIST: remove the expiry
    kRelative,  // ms after the engine's replicated clock at apply
    kAbsolute,  // ms since the Unix epoch
  };
  Kind kind = Kind::kNone;
  int64_t ms = 0;

  static Expiry none() { return {}; }
  static Expiry keep() { return {Kind::kKeep, 0}; }
  static Expiry persist() { return {Kind::kPersist, 0}; }
  static Expiry relative(int64_t ms) { return {Kind::kRelative, ms}; }
  static Expiry absolute(int64_t ms) { return {Kind::kAbsolute, ms}; }
  bool operator==(const Expiry&) const = default;
};

enum class PutCondition : uint8_t { kAlways, kIfAbsent /* NX */, kIfPresent /* XX */ };
// XX with LT needs both (LT alone sets a first expiry: no expiry counts as infinite); XX with GT
// is GT, which already needs an expiry. Appended values only: the byte is in the log.
enum class ExpireCondition : uint8_t { kAlways, kNx, kXx, kGt, kLt, kXxLt };

// SET key value [NX|XX] [GET] [EX|PX|EXAT|PXAT|KEEPTTL].
struct Put {
  Bytes key;
  Bytes value;
  PutCondition condition = PutCondition::kAlways;
  bool get_old = false;  // reply with the previous value (SET ... GET)
  Expiry expiry;
  bool operator==(const Put&) const = default;
};
struct Delete {  // DEL k1 k2 ...
  std::vector<Bytes> keys;
  bool operator==(const Delete&) const = default;
};
struct Clear {  // FLUSHDB
  bool operator==(const Clear&) const = default;
};
// EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT with NX|XX|GT|LT. `expiry` is kRelative or kAbsolute;
// a time at or before the replicated clock deletes the key, as Redis does.
struct Expire {
  Bytes key;
  Expiry expiry;
  ExpireCondition condition = ExpireCondition::kAlways;
  bool operator==(const Expire&) const = default;
};
struct Persist {
  Bytes key;
  bool operator==(const Persist&) const = default;
};
struct IncrBy {  // INCR, INCRBY, DECR, DECRBY
  Bytes key;
  int64_t delta = 1;
  bool operator==(const IncrBy&) const = default;
};
// INCRBYFLOAT: the increment travels as the client's text and is parsed at apply, so the log
// holds no floating-point encoding and every replica parses the same bytes.
struct IncrByFloat {
  Bytes key;
  Bytes delta;
  bool operator==(const IncrByFloat&) const = default;
};
struct Append {
  Bytes key;
  Bytes value;
  bool operator==(const Append&) const = default;
};
struct SetRange {
  Bytes key;
  int64_t offset = 0;
  Bytes value;
  bool operator==(const SetRange&) const = default;
};
struct GetDel {
  Bytes key;
  bool operator==(const GetDel&) const = default;
};
// GETEX key [EX|PX|EXAT|PXAT|PERSIST]; kKeep (or kNone) leaves the expiry alone.
struct GetEx {
  Bytes key;
  Expiry expiry = Expiry::keep();
  bool operator==(const GetEx&) const = default;
};
// Sets `value` only if the key exists and its current value equals `expected`. Replies 1 if it
// set, 0 if not. The new value's expiry follows `expiry` (kNone clears, kKeep keeps).
struct CompareAndSet {
  Bytes key;
  Bytes expected;
  Bytes value;
  Expiry expiry;
  bool operator==(const CompareAndSet&) const = default;
};
// Carries only time: the leader proposes one now and then so the replicated clock (and with it
// expiry) advances even when no client writes.
struct Tick {
  bool operator==(const Tick&) const = default;
};

// Removes keys because the leader's engine chose them for eviction (Config::evict_on_apply ==
// false). Applied like Delete but counted as evictions; replies with the number removed.
struct Evict {
  std::vector<Bytes> keys;
  bool operator==(const Evict&) const = default;
};

// MSET / MSETNX: every pair set as one command, so no reader and no replica sees some of them
// without the others. Values lose any expiry. With if_none_exist (MSETNX) nothing is set when
// any key exists (reply 0; else 1); otherwise the reply is Ok. A later pair for the same key wins.
struct PutMany {
  std::vector<Bytes> keys_and_values;  // key, value, key, value, ...
  bool if_none_exist = false;
  bool operator==(const PutMany&) const = default;
};

// Opens a client session (sessions.h); replies with its id, an integer.
struct OpenSession {
  bool operator==(const OpenSession&) const = default;
};
// Write `seq` of client session `session`: `command` (the encode_entry bytes of a write, whose
// own time is ignored) is applied at most once; a repeat gets the first reply. `acked`: every
// write of the session numbered below it has been answered to the client.
struct SessionWrite {
  uint64_t session = 0;
  uint64_t seq = 0;
  uint64_t acked = 0;
  Bytes command;
  bool operator==(const SessionWrite&) const = default;
};

// RENAME / RENAMENX: the value and its expiry move to `to`, replacing what was there (RENAME), or
// only if nothing is (RENAMENX: reply 1, or 0 if `to` exists). No `from`: "ERR no such key".
struct Rename {
  Bytes from;
  Bytes to;
  bool if_absent = false;  // RENAMENX
  bool operator==(const Rename&) const = default;
};
// COPY from to [REPLACE]: a copy of the value and its expiry at `to`. Reply 1, or 0 if `from` is
// missing or `to` exists without REPLACE. (The same key for both is refused before the log.)
struct Copy {
  Bytes from;
  Bytes to;
  bool replace = false;
  bool operator==(const Copy&) const = default;
};

// SETBIT key offset bit: replies with the bit's previous value; a value too short grows with
// zero bytes. The offset was checked against the value size limit before the log, and is again.
struct SetBit {
  Bytes key;
  uint64_t offset = 0;
  bool bit = false;
  bool operator==(const SetBit&) const = default;
};
// BITOP op dest src...: `dest` gets the result (bits.h, bit_op) and the reply is its length; an
// empty result deletes `dest`. NOT has exactly one source (checked before the log).
struct BitOp {
  BitOpKind op = BitOpKind::kAnd;
  Bytes dest;
  std::vector<Bytes> sources;
  bool operator==(const BitOp&) const = default;
};

// BITFIELD key [GET|SET|INCRBY|OVERFLOW ...]: the subcommands in order (bits.h), answered as one
// array; the value grows with zero bytes to cover every SET and INCRBY, even one that FAIL refuses.
struct BitField {
  Bytes key;
  std::vector<BitFieldOp> ops;
  bool operator==(const BitField&) const = default;
};

// The log holds each command's position in this list: new commands go at the end.
using Command = std::variant<Put, Delete, Clear, Expire, Persist, IncrBy, IncrByFloat, Append,
                             SetRange, GetDel, GetEx, CompareAndSet, Tick, Evict, PutMany,
                             OpenSession, SessionWrite, Rename, Copy, SetBit, BitOp, BitField>;

// Replies, shaped like Redis replies so the RESP layer maps them one to one.
struct Ok {
  bool operator==(const Ok&) const = default;
};
struct Nil {
  bool operator==(const Nil&) const = default;
};

enum class ErrorCode : uint8_t {
  kNotInteger,        // "ERR value is not an integer or out of range"
  kOverflow,          // "ERR increment or decrement would overflow"
  kNotFloat,          // "ERR value is not a valid float"
  kNanOrInfinity,     // "ERR increment would produce NaN or Infinity"
  kOutOfMemory,       // "OOM command not allowed when used memory > 'maxmemory'."
  kValueTooLarge,     // a value over the configured maximum
  kKeyTooLarge,       // a key over the configured maximum
  kInvalidExpire,     // "ERR invalid expire time in '<cmd>' command"
  kOffsetOutOfRange,  // "ERR offset is out of range"
  kSession,           // a session write refused (sessions.h): "SESSION ..."
  kNoSuchKey,         // "ERR no such key" (RENAME of a missing key)
  kBitOffset,         // "ERR bit offset is not an integer or out of range"
};

struct Error {
  ErrorCode code;
  std::string message;  // the full error line as Redis words it, without the leading '-'
  bool operator==(const Error&) const = default;
};

// A flat array reply (BITFIELD's answers): each item nil, an integer or a string.
struct Array {
  std::vector<std::variant<Nil, int64_t, Bytes>> items;
  bool operator==(const Array&) const = default;
};

// Int for counts/lengths/integers, Bytes for values (and INCRBYFLOAT's result), Nil for "no key".
using Reply = std::variant<Ok, Nil, int64_t, Bytes, Error, Array>;

// The exact texts, shared by the engine and tests.
inline constexpr std::string_view kErrNotInteger = "ERR value is not an integer or out of range";
inline constexpr std::string_view kErrOverflow = "ERR increment or decrement would overflow";
inline constexpr std::string_view kErrNotFloat = "ERR value is not a valid float";
inline constexpr std::string_view kErrNanOrInfinity = "ERR increment would produce NaN or Infinity";
inline constexpr std::string_view kErrOom =
    "OOM command not allowed when used memory > 'maxmemory'.";
inline constexpr std::string_view kErrOffset = "ERR offset is out of range";
inline constexpr std::string_view kErrNoSuchKey = "ERR no such key";
// A command that builds a value (APPEND, SETRANGE) past max_value_bytes, in Redis's words.
inline constexpr std::string_view kErrStringTooLong =
    "ERR string exceeds maximum allowed size (proto-max-bulk-len)";

// Name of a command for error texts ("set", "getex", "expire", ...).
std::string_view command_name(const Command& cmd);

}  // namespace cairn::cache
