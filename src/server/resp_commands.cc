// Redis commands as cache commands and engine reads; see resp_commands.h. Argument checks follow
// redis-server 7.0 in order and wording: option syntax first, then numbers, then limits.
#include "server/resp_commands.h"

#include "cache/codec.h"
#include "cache/lcs.h"

#include <limits>

#include "common/overloaded.h"
#include "net/client_errors.h"
#include "server/resp/parser.h"

namespace cairn::server {
namespace {

using resp::CommandId;
using resp::ReplyWriter;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string expire_error(std::string_view cmd) {
  return "ERR invalid expire time in '" + std::string(cmd) + "' command";
}

// Options of SET (for_set) and GETEX, as Redis's parseExtendedStringArgumentsOrReply takes them:
// each option may repeat but not combine with a conflicting one; anything else is a syntax error.
struct StringOptions {
  enum Unit : uint8_t { kNone, kEx, kPx, kExat, kPxat } unit = kNone;
  std::string_view when;
  bool nx = false, xx = false, get = false, keepttl = false, persist = false;
};

Result<StringOptions, std::string> parse_string_options(Argv argv, size_t from, bool for_set) {
  StringOptions o;
  for (size_t j = from; j < argv.size(); ++j) {
    const std::string_view opt = argv[j];
    const bool has_next = j + 1 < argv.size();
    const bool timed = o.unit != StringOptions::kNone;
    auto set_unit = [&](StringOptions::Unit u) {
      if (o.keepttl || o.persist || (timed && o.unit != u) || !has_next) return false;
      o.unit = u;
      o.when = argv[++j];
      return true;
    };
    if (for_set && iequals(opt, "nx") && !o.xx) {
      o.nx = true;
    } else if (for_set && iequals(opt, "xx") && !o.nx) {
      o.xx = true;
    } else if (for_set && iequals(opt, "get")) {
      o.get = true;
    } else if (for_set && iequals(opt, "keepttl") && !o.persist && !timed) {
      o.keepttl = true;
    } else if (!for_set && iequals(opt, "persist") && !o.keepttl && !timed) {
      o.persist = true;
    } else if (iequals(opt, "ex") && set_unit(StringOptions::kEx)) {
    } else if (iequals(opt, "px") && set_unit(StringOptions::kPx)) {
    } else if (iequals(opt, "exat") && set_unit(StringOptions::kExat)) {
    } else if (iequals(opt, "pxat") && set_unit(StringOptions::kPxat)) {
    } else {
      return Err{std::string(kErrSyntax)};
    }
  }
  return o;
}

// getExpireMillisecondsOrReply: a positive number; seconds must not overflow as milliseconds.
Result<cache::Expiry, std::string> parse_expiry(std::string_view text, bool seconds, bool absolute,
                                                std::string_view cmd) {
  int64_t n = 0;
  if (!parse_int(text, n)) return Err{std::string(kErrNotInteger)};
  if (n <= 0 || (seconds && n > std::numeric_limits<int64_t>::max() / 1000))
    return Err{expire_error(cmd)};
  if (seconds) n *= 1000;
  return absolute ? cache::Expiry::absolute(n) : cache::Expiry::relative(n);
}

Result<cache::Expiry, std::string> expiry_of(const StringOptions& o, std::string_view cmd) {
  switch (o.unit) {
    case StringOptions::kEx:
      return parse_expiry(o.when, true, false, cmd);
    case StringOptions::kPx:
      return parse_expiry(o.when, false, false, cmd);
    case StringOptions::kExat:
      return parse_expiry(o.when, true, true, cmd);
    case StringOptions::kPxat:
      return parse_expiry(o.when, false, true, cmd);
    case StringOptions::kNone:
      break;
  }
  if (o.keepttl) return cache::Expiry::keep();
  if (o.persist) return cache::Expiry::persist();
  return cmd == "getex" ? cache::Expiry::keep() : cache::Expiry::none();
}

Result<WritePlan, std::string> one(const cache::Command& c, WriteShape shape = WriteShape::kAsIs) {
  WritePlan p;
  p.command = cache::encode_entry(c, 0);
  p.shape = shape;
  return p;
}

// The SET family, the most common writes, is encoded straight from the request's arguments.
Result<WritePlan, std::string> one_put(std::string_view key, std::string_view value,
                                       cache::PutCondition condition, bool get_old,
                                       const cache::Expiry& expiry,
                                       WriteShape shape = WriteShape::kAsIs) {
  WritePlan p;
  cache::encode_put_to(p.command, key, value, condition, get_old, expiry, 0);
  p.shape = shape;
  return p;
}

Result<WritePlan, std::string> plan_set(Argv argv) {
  auto o = parse_string_options(argv, 3, true);
  if (!o.ok()) return Err{o.error()};
  auto x = expiry_of(*o, "set");
  if (!x.ok()) return Err{x.error()};
  auto condition = cache::PutCondition::kAlways;
  if (o->nx) condition = cache::PutCondition::kIfAbsent;
  if (o->xx) condition = cache::PutCondition::kIfPresent;
  return one_put(argv[1], argv[2], condition, o->get, *x);
}

Result<WritePlan, std::string> plan_setex(Argv argv, bool seconds, std::string_view cmd) {
  auto x = parse_expiry(argv[2], seconds, false, cmd);
  if (!x.ok()) return Err{x.error()};
  return one_put(argv[1], argv[3], cache::PutCondition::kAlways, false, *x);
}

Result<WritePlan, std::string> plan_getex(Argv argv) {
  auto o = parse_string_options(argv, 2, false);
  if (!o.ok()) return Err{o.error()};
  auto x = expiry_of(*o, "getex");
  if (!x.ok()) return Err{x.error()};
  return one(cache::GetEx{std::string(argv[1]), *x});
}

Result<WritePlan, std::string> plan_mset(Argv argv, bool nx, std::string_view cmd) {
  if (argv.size() % 2 == 0)
    return Err{"ERR wrong number of arguments for '" + std::string(cmd) + "' command"};
  WritePlan p;
  cache::encode_put_many_to(p.command, argv.subspan(1), nx, 0);
  return p;
}

// expireGenericCommand: options first (NX XX GT LT), then the time.
Result<WritePlan, std::string> plan_expire(Argv argv, bool seconds, bool absolute,
                                           std::string_view cmd) {
  bool nx = false, xx = false, gt = false, lt = false;
  for (size_t j = 3; j < argv.size(); ++j) {
    if (iequals(argv[j], "nx"))
      nx = true;
    else if (iequals(argv[j], "xx"))
      xx = true;
    else if (iequals(argv[j], "gt"))
      gt = true;
    else if (iequals(argv[j], "lt"))
      lt = true;
    else
      return Err{"ERR Unsupported option " + std::string(argv[j])};
  }
  if (nx && (xx || gt || lt))
    return Err{std::string("ERR NX and XX, GT or LT options at the same time are not compatible")};
  if (gt && lt)
    return Err{std::string("ERR GT and LT options at the same time are not compatible")};
  int64_t when = 0;
  if (!parse_int(argv[2], when)) return Err{std::string(kErrNotInteger)};
  if (seconds) {
    if (when > std::numeric_limits<int64_t>::max() / 1000 ||
        when < std::numeric_limits<int64_t>::min() / 1000)
      return Err{expire_error(cmd)};
    when *= 1000;
  }
  cache::Expire e{std::string(argv[1]),
                  absolute ? cache::Expiry::absolute(when) : cache::Expiry::relative(when),
                  cache::ExpireCondition::kAlways};
  if (nx) e.condition = cache::ExpireCondition::kNx;
  if (xx) e.condition = cache::ExpireCondition::kXx;
  if (gt) e.condition = cache::ExpireCondition::kGt;
  if (lt) e.condition = xx ? cache::ExpireCondition::kXxLt : cache::ExpireCondition::kLt;
  return one(std::move(e));
}

Result<WritePlan, std::string> plan_incr(Argv argv, int64_t sign) {
  int64_t delta = 1;
  if (argv.size() == 3 && !parse_int(argv[2], delta)) return Err{std::string(kErrNotInteger)};
  if (sign < 0) {
    if (delta == std::numeric_limits<int64_t>::min())
      return Err{std::string("ERR decrement would overflow")};
    delta = -delta;
  }
  return one(cache::IncrBy{std::string(argv[1]), delta});
}

Result<WritePlan, std::string> plan_flush(Argv argv) {
  if (argv.size() > 2 ||
      (argv.size() == 2 && !iequals(argv[1], "sync") && !iequals(argv[1], "async")))
    return Err{std::string(kErrSyntax)};
  return one(cache::Clear{});
}

// COPY source destination [DB n] [REPLACE], checked in copyCommand's order. One database, 0, as
// SELECT: any other index is out of range.
Result<WritePlan, std::string> plan_copy(Argv argv) {
  bool replace = false;
  for (size_t j = 3; j < argv.size(); ++j) {
    if (iequals(argv[j], "replace")) {
      replace = true;
    } else if (iequals(argv[j], "db") && j + 1 < argv.size()) {
      int64_t db = 0;
      if (!parse_int(argv[++j], db)) return Err{std::string(kErrNotInteger)};
      if (db != 0) return Err{std::string("ERR DB index is out of range")};
    } else {
      return Err{std::string(kErrSyntax)};
    }
  }
  if (argv[1] == argv[2])
    return Err{std::string("ERR source and destination objects are the same")};
  return one(cache::Copy{std::string(argv[1]), std::string(argv[2]), replace});
}

std::vector<cache::Bytes> keys_from(Argv argv, size_t from) {
  std::vector<cache::Bytes> keys;
  keys.reserve(argv.size() - from);
  for (size_t i = from; i < argv.size(); ++i)
    keys.emplace_back(argv[i]);
  return keys;
}

void serve_scan(Argv argv, const cache::Engine& engine, ReplyWriter& w) {
  uint64_t cursor = 0;
  std::string_view c = argv[1];
  if (!c.empty() && c[0] == '+') c.remove_prefix(1);
  if (c.empty() || c.size() > 20) return w.error("ERR invalid cursor");
  for (char ch : c) {
    if (ch < '0' || ch > '9') return w.error("ERR invalid cursor");
    const uint64_t d = static_cast<uint64_t>(ch - '0');
    if (cursor > (std::numeric_limits<uint64_t>::max() - d) / 10)
      return w.error("ERR invalid cursor");
    cursor = cursor * 10 + d;
  }
  std::string_view pattern = "*";
  int64_t count = 10;
  bool strings_only_wanted = true;
  for (size_t i = 2; i < argv.size(); i += 2) {
    const bool has_value = i + 1 < argv.size();
    if (iequals(argv[i], "count") && has_value) {
      if (!parse_int(argv[i + 1], count)) return w.error(kErrNotInteger);
      if (count < 1) return w.error(kErrSyntax);
    } else if (iequals(argv[i], "match") && has_value) {
      pattern = argv[i + 1];
    } else if (iequals(argv[i], "type") && has_value) {
      strings_only_wanted = iequals(argv[i + 1], "string");  // every cairn key is a string
    } else {
      return w.error(kErrSyntax);
    }
  }
  cache::ScanPage page = engine.scan(cursor, pattern, static_cast<size_t>(count));
  w.array(2);
  w.bulk(std::to_string(page.cursor));
  if (!strings_only_wanted) return w.array(0);
  w.array(page.keys.size());
  for (const auto& k : page.keys)
    w.bulk(k);
}

// A bit offset as Redis's getBitOffsetFromArgument takes it: a non-negative integer whose byte
// fits the value size limit (proto-max-bulk-len).
bool parse_bit_offset(std::string_view s, uint64_t max_value_bytes, uint64_t& out) {
  int64_t n = 0;
  if (!parse_int(s, n) || n < 0 ||
      !cache::bit_offset_fits(static_cast<uint64_t>(n), max_value_bytes))
    return false;
  out = static_cast<uint64_t>(n);
  return true;
}

// SETBIT key offset bit, checked in setbitCommand's order: the offset, then the bit.
Result<WritePlan, std::string> plan_setbit(Argv argv, uint64_t max_value_bytes) {
  uint64_t offset = 0;
  if (!parse_bit_offset(argv[2], max_value_bytes, offset))
    return Err{std::string(cache::kErrBitOffset)};
  int64_t bit = 0;
  if (!parse_int(argv[3], bit) || (bit & ~int64_t{1}) != 0)
    return Err{std::string(cache::kErrBitValue)};
  return one(cache::SetBit{std::string(argv[1]), offset, bit == 1});
}

// BITOP AND|OR|XOR|NOT destkey srckey...: the operation, then NOT's single source.
Result<WritePlan, std::string> plan_bitop(Argv argv) {
  cache::BitOpKind op;
  if (iequals(argv[1], "and")) {
    op = cache::BitOpKind::kAnd;
  } else if (iequals(argv[1], "or")) {
    op = cache::BitOpKind::kOr;
  } else if (iequals(argv[1], "xor")) {
    op = cache::BitOpKind::kXor;
  } else if (iequals(argv[1], "not")) {
    op = cache::BitOpKind::kNot;
  } else {
    return Err{std::string(kErrSyntax)};
  }
  if (op == cache::BitOpKind::kNot && argv.size() != 4)
    return Err{std::string("ERR BITOP NOT must be called with a single source key.")};
  return one(cache::BitOp{op, std::string(argv[2]), keys_from(argv, 3)});
}

// BITFIELD's and BITFIELD_RO's subcommands, read as bitfieldGeneric reads them: each one's
// words, type, offset ('#N' counts in widths) and value in turn; the first bad one is the error.
// BITFIELD_RO refuses a SET or INCRBY only once all of them have parsed.
Result<std::vector<cache::BitFieldOp>, std::string> parse_bitfield(Argv argv,
                                                                   uint64_t max_value_bytes,
                                                                   bool read_only) {
  using Op = cache::BitFieldOp;
  std::vector<Op> ops;
  auto overflow = cache::BitFieldOverflow::kWrap;
  bool writes = false;
  for (size_t j = 2; j < argv.size(); ++j) {
    const size_t left = argv.size() - j - 1;
    Op op;
    if (iequals(argv[j], "get") && left >= 2) {
      op.kind = Op::Kind::kGet;
    } else if (iequals(argv[j], "set") && left >= 3) {
      op.kind = Op::Kind::kSet;
    } else if (iequals(argv[j], "incrby") && left >= 3) {
      op.kind = Op::Kind::kIncrBy;
    } else if (iequals(argv[j], "overflow") && left >= 1) {
      const std::string_view how = argv[++j];
      if (iequals(how, "wrap")) {
        overflow = cache::BitFieldOverflow::kWrap;
      } else if (iequals(how, "sat")) {
        overflow = cache::BitFieldOverflow::kSat;
      } else if (iequals(how, "fail")) {
        overflow = cache::BitFieldOverflow::kFail;
      } else {
        return Err{std::string("ERR Invalid OVERFLOW type specified")};
      }
      continue;
    } else {
      return Err{std::string(kErrSyntax)};
    }
    const std::string_view type = argv[j + 1];
    int64_t bits = 0;
    // Lowercase only: redis-server 7.0 refuses "U8" and "I16".
    if (type.empty() || (type[0] != 'i' && type[0] != 'u') || !parse_int(type.substr(1), bits) ||
        bits < 1 || bits > (type[0] == 'i' ? 64 : 63)) {
      return Err{
          std::string("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 "
                      "is not supported but i64 is.")};
    }
    op.is_signed = type[0] == 'i';
    op.bits = static_cast<uint8_t>(bits);
    std::string_view where = argv[j + 2];
    const bool in_widths = !where.empty() && where[0] == '#';
    if (in_widths) where.remove_prefix(1);
    int64_t offset = 0;
    if (!parse_int(where, offset) || (in_widths && __builtin_mul_overflow(offset, bits, &offset)) ||
        offset < 0 || !cache::bit_offset_fits(static_cast<uint64_t>(offset), max_value_bytes))
      return Err{std::string(cache::kErrBitOffset)};
    op.offset = static_cast<uint64_t>(offset);
    if (op.kind != Op::Kind::kGet) {
      writes = true;
      if (!parse_int(argv[j + 3], op.value)) return Err{std::string(kErrNotInteger)};
    }
    op.overflow = overflow;
    ops.push_back(op);
    j += op.kind == Op::Kind::kGet ? 2 : 3;
  }
  if (read_only && writes)
    return Err{std::string("ERR BITFIELD_RO only supports the GET subcommand")};
  return ops;
}

void serve_bitfield_ro(Argv argv, const cache::Engine& engine, ReplyWriter& w) {
  auto ops = parse_bitfield(argv, engine.config().max_value_bytes, true);
  if (!ops.ok()) return w.error(ops.error());
  std::vector<std::optional<int64_t>> values;
  if (!engine.get_with(argv[1],
                       [&](std::string_view v) { values = cache::bit_field_get(v, *ops); }))
    values = cache::bit_field_get({}, *ops);
  w.array(values.size());
  for (const auto& v : values)
    w.integer(*v);  // GETs always answer
}

// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN], checked in lcsCommand's order. The
// values are copied out first, so the table (up to proto-max-bulk-len bytes, as Redis allows) is
// built without holding the engine's lock.
void serve_lcs(Argv argv, const cache::Engine& engine, ReplyWriter& w) {
  const std::string a = engine.get(argv[1]).value_or(""), b = engine.get(argv[2]).value_or("");
  bool len = false, idx = false, with_len = false;
  int64_t min_len = 0;
  for (size_t j = 3; j < argv.size(); ++j) {
    if (iequals(argv[j], "idx")) {
      idx = true;
    } else if (iequals(argv[j], "len")) {
      len = true;
    } else if (iequals(argv[j], "withmatchlen")) {
      with_len = true;
    } else if (iequals(argv[j], "minmatchlen") && j + 1 < argv.size()) {
      if (!parse_int(argv[++j], min_len)) return w.error(kErrNotInteger);
    } else {
      return w.error(kErrSyntax);
    }
  }
  if (idx && len)
    return w.error("ERR If you want both the length and indexes, please just use IDX.");
  auto r = cache::lcs(a, b, !len, engine.config().max_value_bytes);
  if (!r)
    return w.error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
  if (len) return w.integer(r->length);
  if (!idx) return w.bulk(r->text);
  size_t shown = 0;
  for (const auto& m : r->matches)
    if (static_cast<int64_t>(m.length()) >= min_len) ++shown;
  w.map(2);
  w.bulk("matches");
  w.array(shown);
  for (const auto& m : r->matches) {
    if (static_cast<int64_t>(m.length()) < min_len) continue;
    w.array(with_len ? 3 : 2);
    w.array(2);
    w.integer(m.a_start);
    w.integer(m.a_end);
    w.array(2);
    w.integer(m.b_start);
    w.integer(m.b_end);
    if (with_len) w.integer(m.length());
  }
  w.bulk("len");
  w.integer(r->length);
}

// The optional [start end [BYTE|BIT]] of BITCOUNT (from index 2) and [start [end [BYTE|BIT]]] of
// BITPOS (from 3), read in their commands' order: bitcountCommand takes both numbers before the
// unit, bitposCommand the unit before the end.
struct BitArgs {
  cache::BitRange range;  // the default is the whole value
  bool end_given = false;
};

Result<BitArgs, std::string> parse_bit_range(Argv argv, size_t from, bool is_bitpos) {
  BitArgs a;
  const size_t n = argv.size() - from;
  if (n == 0) return a;
  if (n > 3 || (n == 1 && !is_bitpos)) return Err{std::string(kErrSyntax)};
  if (!parse_int(argv[from], a.range.start)) return Err{std::string(kErrNotInteger)};
  const auto end = [&]() -> bool {
    if (n < 2) return true;
    a.end_given = true;
    return parse_int(argv[from + 1], a.range.end);
  };
  if (!is_bitpos && !end()) return Err{std::string(kErrNotInteger)};
  // BITCOUNT answers 0 for two negative bounds in the wrong order before it reads the unit.
  if (!is_bitpos && a.range.start < 0 && a.range.end < 0 && a.range.start > a.range.end) return a;
  if (n == 3) {
    if (iequals(argv[from + 2], "bit")) {
      a.range.bits = true;
    } else if (!iequals(argv[from + 2], "byte")) {
      return Err{std::string(kErrSyntax)};
    }
  }
  if (is_bitpos && !end()) return Err{std::string(kErrNotInteger)};
  return a;
}

// BITCOUNT and BITPOS look the key up before reading their range, as Redis does: a missing key
// answers even when the range is not valid.
void serve_bitcount(Argv argv, const cache::Engine& engine, ReplyWriter& w) {
  const auto args = parse_bit_range(argv, 2, false);
  int64_t count = 0;
  const bool found = engine.get_with(argv[1], [&](std::string_view v) {
    if (args.ok()) count = cache::bit_count(v, args->range);
  });
  if (found && !args.ok()) return w.error(args.error());
  w.integer(count);
}

void serve_bitpos(Argv argv, const cache::Engine& engine, ReplyWriter& w) {
  int64_t bit = 0;
  if (!parse_int(argv[2], bit)) return w.error(kErrNotInteger);
  if (bit != 0 && bit != 1) return w.error("ERR The bit argument must be 1 or 0.");
  const int b = static_cast<int>(bit);
  const auto args = parse_bit_range(argv, 3, true);
  int64_t pos = 0;
  const bool found = engine.get_with(argv[1], [&](std::string_view v) {
    if (args.ok()) pos = cache::bit_pos(v, b, args->range, args->end_given);
  });
  if (!found) return w.integer(b == 1 ? -1 : 0);  // a missing key reads as endless zero bits
  if (!args.ok()) return w.error(args.error());
  w.integer(pos);
}

void serve_getbit(Argv argv, const cache::Engine& engine, ReplyWriter& w) {
  uint64_t offset = 0;
  if (!parse_bit_offset(argv[2], engine.config().max_value_bytes, offset))
    return w.error(cache::kErrBitOffset);
  int bit = 0;
  engine.get_with(argv[1], [&](std::string_view v) { bit = cache::get_bit(v, offset); });
  w.integer(bit);
}

void serve_get(std::string_view key, const cache::Engine& engine, ReplyWriter& w) {
  if (!engine.get_with(key, [&](std::string_view v) { w.bulk(v); })) w.null();
}

}  // namespace

bool parse_int(std::string_view s, int64_t& out) {
  return resp::parse_redis_int(s, out);
}

bool valid_client_name(std::string_view name) {
  for (char c : name)
    if (c < '!' || c > '~') return false;
  return true;
}

Route route_of(CommandId id) {
  switch (id) {
    case CommandId::kGet:
    case CommandId::kMget:
    case CommandId::kExists:
    case CommandId::kTtl:
    case CommandId::kPttl:
    case CommandId::kExpiretime:
    case CommandId::kPexpiretime:
    case CommandId::kTouch:
    case CommandId::kStrlen:
    case CommandId::kGetrange:
    case CommandId::kGetbit:
    case CommandId::kBitcount:
    case CommandId::kBitpos:
    case CommandId::kBitfieldRo:
    case CommandId::kLcs:
    case CommandId::kType:
    case CommandId::kKeys:
    case CommandId::kScan:
    case CommandId::kRandomkey:
    case CommandId::kDbsize:
      return Route::kRead;
    case CommandId::kSet:
    case CommandId::kSetnx:
    case CommandId::kSetex:
    case CommandId::kPsetex:
    case CommandId::kGetset:
    case CommandId::kGetdel:
    case CommandId::kGetex:
    case CommandId::kMset:
    case CommandId::kMsetnx:
    case CommandId::kDel:
    case CommandId::kUnlink:
    case CommandId::kExpire:
    case CommandId::kPexpire:
    case CommandId::kExpireat:
    case CommandId::kPexpireat:
    case CommandId::kPersist:
    case CommandId::kIncr:
    case CommandId::kIncrby:
    case CommandId::kIncrbyfloat:
    case CommandId::kDecr:
    case CommandId::kDecrby:
    case CommandId::kAppend:
    case CommandId::kSetrange:
    case CommandId::kFlushdb:
    case CommandId::kFlushall:
    case CommandId::kCas:
    case CommandId::kRename:
    case CommandId::kRenamenx:
    case CommandId::kCopy:
    case CommandId::kSetbit:
    case CommandId::kBitop:
    case CommandId::kBitfield:
      return Route::kWrite;
    case CommandId::kInfo:
    case CommandId::kWait:
      return Route::kStatus;
    default:
      return Route::kSession;
  }
}

Result<WritePlan, std::string> plan_write(CommandId id, Argv argv, uint64_t max_value_bytes) {
  const auto key = [&] { return std::string(argv[1]); };
  switch (id) {
    case CommandId::kSet:
      return plan_set(argv);
    case CommandId::kSetnx:
      return one_put(argv[1], argv[2], cache::PutCondition::kIfAbsent, false, cache::Expiry::none(),
                     WriteShape::kBool);
    case CommandId::kSetex:
      return plan_setex(argv, true, "setex");
    case CommandId::kPsetex:
      return plan_setex(argv, false, "psetex");
    case CommandId::kGetset:
      return one_put(argv[1], argv[2], cache::PutCondition::kAlways, true, cache::Expiry::none());
    case CommandId::kGetdel:
      return one(cache::GetDel{key()});
    case CommandId::kGetex:
      return plan_getex(argv);
    case CommandId::kMset:
      return plan_mset(argv, false, "mset");
    case CommandId::kMsetnx:
      return plan_mset(argv, true, "msetnx");
    case CommandId::kDel:
    case CommandId::kUnlink:
      return one(cache::Delete{keys_from(argv, 1)});
    case CommandId::kExpire:
      return plan_expire(argv, true, false, "expire");
    case CommandId::kPexpire:
      return plan_expire(argv, false, false, "pexpire");
    case CommandId::kExpireat:
      return plan_expire(argv, true, true, "expireat");
    case CommandId::kPexpireat:
      return plan_expire(argv, false, true, "pexpireat");
    case CommandId::kPersist:
      return one(cache::Persist{key()});
    case CommandId::kIncr:
    case CommandId::kIncrby:
      return plan_incr(argv, 1);
    case CommandId::kDecr:
    case CommandId::kDecrby:
      return plan_incr(argv, -1);
    case CommandId::kIncrbyfloat:
      return one(cache::IncrByFloat{key(), std::string(argv[2])});
    case CommandId::kAppend:
      return one(cache::Append{key(), std::string(argv[2])});
    case CommandId::kSetrange: {
      int64_t offset = 0;
      if (!parse_int(argv[2], offset)) return Err{std::string(kErrNotInteger)};
      if (offset < 0) return Err{std::string(cache::kErrOffset)};
      return one(cache::SetRange{key(), offset, std::string(argv[3])});
    }
    case CommandId::kFlushdb:
    case CommandId::kFlushall:
      return plan_flush(argv);
    case CommandId::kCas:
      return one(cache::CompareAndSet{key(), std::string(argv[2]), std::string(argv[3]),
                                      cache::Expiry::keep()});
    case CommandId::kRename:
      return one(cache::Rename{key(), std::string(argv[2]), false});
    case CommandId::kRenamenx:
      return one(cache::Rename{key(), std::string(argv[2]), true});
    case CommandId::kCopy:
      return plan_copy(argv);
    case CommandId::kSetbit:
      return plan_setbit(argv, max_value_bytes);
    case CommandId::kBitop:
      return plan_bitop(argv);
    case CommandId::kBitfield: {
      auto ops = parse_bitfield(argv, max_value_bytes, false);
      if (!ops.ok()) return Err{ops.error()};
      return one(cache::BitField{std::string(argv[1]), std::move(*ops)});
    }
    default:
      return Err{std::string("ERR not a write command")};
  }
}

void write_engine_reply(const cache::Reply& reply, WriteShape shape, ReplyWriter& w) {
  std::visit(Overloaded{[&](const cache::Ok&) {
                          if (shape == WriteShape::kBool)
                            w.integer(1);
                          else
                            w.ok();
                        },
                        [&](const cache::Nil&) {
                          if (shape == WriteShape::kBool)
                            w.integer(0);
                          else
                            w.null();
                        },
                        [&](int64_t n) { w.integer(n); }, [&](const cache::Bytes& b) { w.bulk(b); },
                        [&](const cache::Error& e) { w.error(e.message); },
                        [&](const cache::Array& a) {
                          w.array(a.items.size());
                          for (const auto& item : a.items)
                            std::visit(Overloaded{[&](const cache::Nil&) { w.null(); },
                                                  [&](int64_t n) { w.integer(n); },
                                                  [&](const cache::Bytes& b) { w.bulk(b); }},
                                       item);
                        }},
             reply);
}

void serve_read(CommandId id, Argv argv, const cache::Engine& engine, ReplyWriter& w) {
  switch (id) {
    case CommandId::kGet:
      return serve_get(argv[1], engine, w);
    case CommandId::kMget:
      w.array(argv.size() - 1);
      for (size_t i = 1; i < argv.size(); ++i)
        serve_get(argv[i], engine, w);
      return;
    case CommandId::kExists:
    case CommandId::kTouch:  // the access it records is the read itself
      return w.integer(engine.exists(keys_from(argv, 1)));
    case CommandId::kTtl:
    case CommandId::kPttl:
    case CommandId::kExpiretime:
    case CommandId::kPexpiretime: {
      const bool abs = id == CommandId::kExpiretime || id == CommandId::kPexpiretime;
      const int64_t ms = abs ? engine.pexpiretime(argv[1]) : engine.pttl(argv[1]);
      if (ms < 0 || id == CommandId::kPttl || id == CommandId::kPexpiretime) return w.integer(ms);
      return w.integer((ms + 500) / 1000);  // Redis rounds to the nearest second
    }
    case CommandId::kStrlen:
      return w.integer(engine.strlen(argv[1]));
    case CommandId::kGetrange: {
      int64_t start = 0, end = 0;
      if (!parse_int(argv[2], start) || !parse_int(argv[3], end)) return w.error(kErrNotInteger);
      return w.bulk(engine.getrange(argv[1], start, end));
    }
    case CommandId::kGetbit:
      return serve_getbit(argv, engine, w);
    case CommandId::kBitcount:
      return serve_bitcount(argv, engine, w);
    case CommandId::kBitpos:
      return serve_bitpos(argv, engine, w);
    case CommandId::kBitfieldRo:
      return serve_bitfield_ro(argv, engine, w);
    case CommandId::kLcs:
      return serve_lcs(argv, engine, w);
    case CommandId::kType:
      return w.simple(engine.exists({std::string(argv[1])}) > 0 ? "string" : "none");
    case CommandId::kScan:
      return serve_scan(argv, engine, w);
    case CommandId::kRandomkey: {
      auto k = engine.random_key();
      return k ? w.bulk(*k) : w.null();
    }
    case CommandId::kDbsize:
      return w.integer(static_cast<int64_t>(engine.dbsize()));
    default:
      return w.error("ERR not a read command");
  }
}

std::string cluster_error(std::string_view why) {
  // A disk that cannot take the log refuses writes as Redis does when it cannot persist.
  if (net::errors::is(why, net::errors::kNoSpace)) return "MISCONF " + std::string(why);
  return (net::errors::never_executed(why) ? "TRYAGAIN " : "ERR ") + std::string(why);
}

}  // namespace cairn::server
