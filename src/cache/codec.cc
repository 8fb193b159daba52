// Encoding and decoding of stamped cache commands (format in codec.h). Pure functions.
#include "cache/codec.h"

#include <optional>
#include <type_traits>
#include <vector>

namespace cairn::cache {
namespace {

void put_i64(char* at, int64_t v) {
  auto u = static_cast<uint64_t>(v);
  for (int i = 0; i < 8; ++i)
    at[i] = static_cast<char>(u >> (8 * i));
}

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void i64(int64_t v) {
    char b[8];
    put_i64(b, v);
    out_.append(b, 8);
  }
  void varint(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void bytes(std::string_view b) {
    varint(b.size());
    out_.append(b);
  }
  void expiry(const Expiry& x) {
    u8(static_cast<uint8_t>(x.kind));
    i64(x.ms);
  }
  void keys(const std::vector<Bytes>& ks) {
    varint(ks.size());
    for (const Bytes& k : ks)
      bytes(k);
  }

 private:
  std::string& out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  bool done() const { return pos_ == in_.size(); }
  size_t remaining() const { return in_.size() - pos_; }

  uint8_t u8() {
    if (!need(1, "a byte")) return 0;
    return static_cast<uint8_t>(in_[pos_++]);
  }
  int64_t i64() {
    if (!need(8, "an 8-byte integer")) return 0;
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i)
      v = (v << 8) | static_cast<unsigned char>(in_[pos_ + static_cast<size_t>(i)]);
    pos_ += 8;
    return static_cast<int64_t>(v);
  }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      uint8_t b = u8();
      if (failed()) return 0;
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    fail("a varint longer than 10 bytes");
    return 0;
  }
  Bytes bytes() {
    Bytes b;
    bytes_into(b);
    return b;
  }
  // Into an existing string, reusing its capacity.
  void bytes_into(Bytes& b) { b.assign(bytes_view()); }
  // A string's bytes where they lie in the input, not copied.
  std::string_view bytes_view() {
    uint64_t n = varint();
    if (failed() || !need(n, "a string of " + std::to_string(n) + " bytes")) return {};
    const std::string_view out = in_.substr(pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return out;
  }
  template <typename E>
  E enumeration(uint8_t max, const char* what) {
    uint8_t v = u8();
    if (!failed() && v > max) fail(std::string("an unknown ") + what + " " + std::to_string(v));
    return static_cast<E>(v);
  }
  Expiry expiry() {
    Expiry x;
    x.kind =
        enumeration<Expiry::Kind>(static_cast<uint8_t>(Expiry::Kind::kAbsolute), "expiry kind");
    x.ms = i64();
    return x;
  }
  std::vector<Bytes> keys() {
    uint64_t n = varint();
    // Each key takes at least one byte: a count past the remaining input is malformed, and
    // checking it first bounds the allocation by the input size.
    if (!failed() && n > in_.size() - pos_) fail("a key count of " + std::to_string(n));
    std::vector<Bytes> ks;
    if (failed()) return ks;
    ks.reserve(static_cast<size_t>(n));
    for (uint64_t i = 0; i < n && !failed(); ++i)
      ks.push_back(bytes());
    return ks;
  }
  void fail(const std::string& what) {
    if (error_.empty())
      error_ = "cache entry: malformed at byte " + std::to_string(pos_) + ": " + what;
  }

 private:
  bool need(uint64_t n, const std::string& what) {
    if (n <= in_.size() - pos_) return true;
    fail("truncated, expected " + what);
    return false;
  }
  std::string_view in_;
  size_t pos_ = 0;
  std::string error_;
};

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

}  // namespace

std::string encode_entry(const Command& command, int64_t time_ms) {
  std::string out;
  encode_entry_to(out, command, time_ms);
  return out;
}

namespace {

void put_fields(Writer& w, std::string_view key, std::string_view value, PutCondition condition,
                bool get_old, const Expiry& expiry) {
  w.bytes(key);
  w.bytes(value);
  w.u8(static_cast<uint8_t>(condition));
  w.u8(get_old ? 1 : 0);
  w.expiry(expiry);
}

}  // namespace

void encode_put_to(std::string& out, std::string_view key, std::string_view value,
                   PutCondition condition, bool get_old, const Expiry& expiry, int64_t time_ms) {
  out.reserve(out.size() + key.size() + value.size() + 32);
  Writer w(out);
  w.u8(kCommandCodecVersion);
  w.i64(time_ms);
  w.u8(static_cast<uint8_t>(Command(std::in_place_type<Put>).index()));
  put_fields(w, key, value, condition, get_old, expiry);
}

void encode_put_many_to(std::string& out, std::span<const std::string_view> keys_and_values,
                        bool if_none_exist, int64_t time_ms) {
  Writer w(out);
  w.u8(kCommandCodecVersion);
  w.i64(time_ms);
  w.u8(static_cast<uint8_t>(Command(std::in_place_type<PutMany>).index()));
  w.varint(keys_and_values.size());
  for (std::string_view b : keys_and_values)
    w.bytes(b);
  w.u8(if_none_exist ? 1 : 0);
}

void stamp_entry_time(char* entry, int64_t time_ms) {
  put_i64(entry + kEntryTimeOffset, time_ms);
}

std::string_view peek_key(std::string_view entry) {
  if (entry.size() < kEntryMinBytes || static_cast<uint8_t>(entry[0]) != kCommandCodecVersion)
    return {};
  const uint8_t tag = static_cast<uint8_t>(entry[kEntryMinBytes - 1]);
  // Delete, Clear and the commands from Tick on (Evict, PutMany, the session commands, Rename,
  // Copy, BitOp) do not start with one key, except SetBit and BitField.
  constexpr uint8_t kSetBitTag = 19, kBitFieldTag = 21;
  static_assert(std::is_same_v<std::variant_alternative_t<kSetBitTag, Command>, SetBit>);
  static_assert(std::is_same_v<std::variant_alternative_t<kBitFieldTag, Command>, BitField>);
  if (tag == 1 || tag == 2 || (tag >= 12 && tag != kSetBitTag && tag != kBitFieldTag)) return {};
  Reader r(entry.substr(kEntryMinBytes));
  const uint64_t n = r.varint();
  const size_t at = kEntryMinBytes + (entry.size() - kEntryMinBytes - r.remaining());
  if (r.failed() || n > entry.size() - at) return {};
  return entry.substr(at, static_cast<size_t>(n));
}

void encode_entry_to(std::string& out, const Command& command, int64_t time_ms) {
  Writer w(out);
  w.u8(kCommandCodecVersion);
  w.i64(time_ms);
  w.u8(static_cast<uint8_t>(command.index()));
  std::visit(
      Overloaded{
          [&](const Put& c) { put_fields(w, c.key, c.value, c.condition, c.get_old, c.expiry); },
          [&](const Delete& c) { w.keys(c.keys); },
          [&](const Clear&) {},
          [&](const Expire& c) {
            w.bytes(c.key);
            w.expiry(c.expiry);
            w.u8(static_cast<uint8_t>(c.condition));
          },
          [&](const Persist& c) { w.bytes(c.key); },
          [&](const IncrBy& c) {
            w.bytes(c.key);
            w.i64(c.delta);
          },
          [&](const IncrByFloat& c) {
            w.bytes(c.key);
            w.bytes(c.delta);
          },
          [&](const Append& c) {
            w.bytes(c.key);
            w.bytes(c.value);
          },
          [&](const SetRange& c) {
            w.bytes(c.key);
            w.i64(c.offset);
            w.bytes(c.value);
          },
          [&](const GetDel& c) { w.bytes(c.key); },
          [&](const GetEx& c) {
            w.bytes(c.key);
            w.expiry(c.expiry);
          },
          [&](const CompareAndSet& c) {
            w.bytes(c.key);
            w.bytes(c.expected);
            w.bytes(c.value);
            w.expiry(c.expiry);
          },
          [&](const Tick&) {},
          [&](const Evict& c) { w.keys(c.keys); },
          [&](const PutMany& c) {
            w.keys(c.keys_and_values);
            w.u8(c.if_none_exist ? 1 : 0);
          },
          [&](const OpenSession&) {},
          [&](const Rename& c) {
            w.bytes(c.from);
            w.bytes(c.to);
            w.u8(c.if_absent ? 1 : 0);
          },
          [&](const Copy& c) {
            w.bytes(c.from);
            w.bytes(c.to);
            w.u8(c.replace ? 1 : 0);
          },
          [&](const SetBit& c) {
            w.bytes(c.key);
            w.varint(c.offset);
            w.u8(c.bit ? 1 : 0);
          },
          [&](const BitOp& c) {
            w.u8(static_cast<uint8_t>(c.op));
            w.bytes(c.dest);
            w.keys(c.sources);
          },
          [&](const BitField& c) {
            w.bytes(c.key);
            w.varint(c.ops.size());
            for (const BitFieldOp& op : c.ops) {
              w.u8(static_cast<uint8_t>(op.kind));
              w.u8(op.is_signed ? 1 : 0);
              w.u8(op.bits);
              w.varint(op.offset);
              w.i64(op.value);
              w.u8(static_cast<uint8_t>(op.overflow));
            }
          },
          [&](const SessionWrite& c) {
            w.varint(c.session);
            w.varint(c.seq);
            w.varint(c.acked);
            w.bytes(c.command);
          },
      },
      command);
}

namespace {

// What follows a Put's value.
void decode_put_rest(Reader& r, Put& p) {
  p.condition = r.enumeration<PutCondition>(2, "put condition");
  p.get_old = r.enumeration<uint8_t>(1, "flag") != 0;
  p.expiry = r.expiry();
}

void decode_put(Reader& r, Put& p) {
  r.bytes_into(p.key);
  r.bytes_into(p.value);
  decode_put_rest(r, p);
}

// A one-byte flag: 0 or 1, anything else refused.
bool read_flag(Reader& r) {
  return r.enumeration<uint8_t>(1, "flag") != 0;
}

std::optional<Command> decode_body(uint8_t tag, Reader& r) {
  switch (tag) {
    case 0: {
      Put p;
      decode_put(r, p);
      return p;
    }
    case 1:
      return Delete{r.keys()};
    case 2:
      return Clear{};
    case 3: {
      Expire e;
      e.key = r.bytes();
      e.expiry = r.expiry();
      e.condition = r.enumeration<ExpireCondition>(5, "expire condition");
      return e;
    }
    case 4:
      return Persist{r.bytes()};
    case 5: {
      IncrBy c;
      c.key = r.bytes();
      c.delta = r.i64();
      return c;
    }
    case 6: {
      IncrByFloat c;
      c.key = r.bytes();
      c.delta = r.bytes();
      return c;
    }
    case 7: {
      Append c;
      c.key = r.bytes();
      c.value = r.bytes();
      return c;
    }
    case 8: {
      SetRange c;
      c.key = r.bytes();
      c.offset = r.i64();
      c.value = r.bytes();
      return c;
    }
    case 9:
      return GetDel{r.bytes()};
    case 10: {
      GetEx c;
      c.key = r.bytes();
      c.expiry = r.expiry();
      return c;
    }
    case 11: {
      CompareAndSet c;
      c.key = r.bytes();
      c.expected = r.bytes();
      c.value = r.bytes();
      c.expiry = r.expiry();
      return c;
    }
    case 12:
      return Tick{};
    case 13:
      return Evict{r.keys()};
    case 14: {
      PutMany c;
      c.keys_and_values = r.keys();
      if (!r.failed() && c.keys_and_values.size() % 2 != 0)
        r.fail("an odd count of keys and values");
      c.if_none_exist = read_flag(r);
      return c;
    }
    case 15:
      return OpenSession{};
    case 16: {
      SessionWrite c;
      c.session = r.varint();
      c.seq = r.varint();
      c.acked = r.varint();
      c.command = r.bytes();
      return c;
    }
    case 17:  // a braced list is evaluated left to right: from, to, the flag
      return Rename{r.bytes(), r.bytes(), read_flag(r)};
    case 18:
      return Copy{r.bytes(), r.bytes(), read_flag(r)};
    case 19:
      return SetBit{r.bytes(), r.varint(), read_flag(r)};
    case 20: {
      BitOp c;
      c.op = r.enumeration<BitOpKind>(static_cast<uint8_t>(BitOpKind::kNot), "bitop kind");
      c.dest = r.bytes();
      c.sources = r.keys();
      if (!r.failed() && (c.sources.empty() || (c.op == BitOpKind::kNot && c.sources.size() != 1)))
        r.fail("a bitop with the wrong number of sources");
      return c;
    }
    case 21: {
      BitField c;
      c.key = r.bytes();
      const uint64_t n = r.varint();
      // Each op takes at least 13 bytes.
      if (!r.failed() && n > r.remaining() / 13) r.fail("a count of " + std::to_string(n) + " ops");
      for (uint64_t i = 0; i < n && !r.failed(); ++i) {
        BitFieldOp op;
        op.kind = r.enumeration<BitFieldOp::Kind>(2, "bitfield op");
        op.is_signed = read_flag(r);
        op.bits = r.u8();
        op.offset = r.varint();
        op.value = r.i64();
        op.overflow = r.enumeration<BitFieldOverflow>(2, "bitfield overflow");
        if (!r.failed() && (op.bits == 0 || op.bits > (op.is_signed ? 64 : 63)))
          r.fail("a bitfield of " + std::to_string(op.bits) + " bits");
        c.ops.push_back(op);
      }
      return c;
    }
    default:
      return std::nullopt;
  }
}

}  // namespace

Result<StampedCommand, CodecError> decode_entry(std::string_view data) {
  StampedCommand out;
  auto st = decode_entry_into(data, out);
  if (!st.ok()) return Err(st.error());
  return out;
}

// An entry's version, time and command tag.
Status<CodecError> decode_entry_head(Reader& r, int64_t& time_ms, uint8_t& tag) {
  const uint8_t version = r.u8();
  if (!r.failed() && version != kCommandCodecVersion) {
    return Err(CodecError{"cache entry: unsupported version " + std::to_string(version) +
                          " (this build reads " + std::to_string(kCommandCodecVersion) + ")"});
  }
  time_ms = r.i64();
  tag = r.u8();
  if (r.failed()) return Err(CodecError{r.error()});
  return {};
}

Status<CodecError> decode_entry_into(std::string_view data, StampedCommand& out) {
  static_assert(std::variant_size_v<Command> == 22, "a new command needs a decoder case");
  Reader r(data);
  uint8_t tag = 0;
  if (auto st = decode_entry_head(r, out.time_ms, tag); !st.ok()) return st;
  if (auto* put = std::get_if<Put>(&out.command); put != nullptr && tag == 0) {
    decode_put(r, *put);  // the common case, into the strings of the previous Put
  } else {
    std::optional<Command> cmd = decode_body(tag, r);
    if (!cmd) return Err(CodecError{"cache entry: unknown command tag " + std::to_string(tag)});
    out.command = std::move(*cmd);
  }
  if (!r.failed() && !r.done()) r.fail("trailing bytes after the command");
  if (r.failed()) return Err(CodecError{r.error()});
  return {};
}

Status<CodecError> decode_entry_taking(std::string&& data, StampedCommand& out) {
  Reader r(data);
  uint8_t tag = 0;
  if (auto st = decode_entry_head(r, out.time_ms, tag); !st.ok()) return st;
  if (tag != 0) return decode_entry_into(data, out);
  Put p;
  r.bytes_into(p.key);
  const std::string_view value = r.bytes_view();
  decode_put_rest(r, p);
  if (!r.failed() && !r.done()) r.fail("trailing bytes after the command");
  if (r.failed()) return Err(CodecError{r.error()});
  const auto at = static_cast<size_t>(value.data() - data.data());
  const size_t n = value.size();
  data.erase(0, at);  // moved within memory already written: no fresh pages, unlike a copy
  data.resize(n);
  p.value = std::move(data);
  out.command = std::move(p);
  return {};
}

std::string encode_reply(const Reply& reply) {
  std::string out;
  Writer w(out);
  w.u8(static_cast<uint8_t>(reply.index()));
  std::visit(Overloaded{[](const Ok&) {}, [](const Nil&) {}, [&](int64_t n) { w.i64(n); },
                        [&](const Bytes& b) { w.bytes(b); },
                        [&](const Error& e) {
                          w.u8(static_cast<uint8_t>(e.code));
                          w.bytes(e.message);
                        },
                        [&](const Array& a) {
                          w.varint(a.items.size());
                          for (const auto& item : a.items) {
                            w.u8(static_cast<uint8_t>(item.index()));
                            if (const auto* n = std::get_if<int64_t>(&item)) w.i64(*n);
                            if (const auto* b = std::get_if<Bytes>(&item)) w.bytes(*b);
                          }
                        }},
             reply);
  return out;
}

Result<Reply, CodecError> decode_reply(std::string_view data) {
  static_assert(std::variant_size_v<Reply> == 6, "a new reply needs a decoder case");
  Reader r(data);
  const uint8_t tag = r.u8();
  Reply reply;
  switch (tag) {
    case 0:
      reply = Ok{};
      break;
    case 1:
      reply = Nil{};
      break;
    case 2:
      reply = r.i64();
      break;
    case 3:
      reply = r.bytes();
      break;
    case 4: {
      auto code =
          r.enumeration<ErrorCode>(static_cast<uint8_t>(ErrorCode::kBitOffset), "error code");
      reply = Error{code, r.bytes()};
      break;
    }
    case 5: {
      Array a;
      const uint64_t n = r.varint();
      // Each item takes at least one byte: a count beyond the bytes left is damage.
      if (!r.failed() && n > r.remaining()) r.fail("an array of " + std::to_string(n) + " items");
      for (uint64_t i = 0; i < n && !r.failed(); ++i) {
        switch (r.enumeration<uint8_t>(2, "array item")) {
          case 0:
            a.items.emplace_back(Nil{});
            break;
          case 1:
            a.items.emplace_back(r.i64());
            break;
          default:
            a.items.emplace_back(r.bytes());
        }
      }
      reply = std::move(a);
      break;
    }
    default:
      if (!r.failed()) r.fail("an unknown reply tag " + std::to_string(tag));
  }
  if (!r.failed() && !r.done()) r.fail("trailing bytes after the reply");
  if (r.failed()) return Err(CodecError{r.error()});
  return reply;
}

}  // namespace cairn::cache
