// RequestParser: see parser.h. The shape follows redis-server's processMultibulkBuffer and
// processInlineBuffer so that the same bytes give the same arguments and the same errors; where we
// differ on purpose it says so below and in docs/resp.md.
// Threading: one parser per connection, one thread at a time (no shared state).
#include "server/resp/parser.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace cairn::server::resp {

namespace {

// Redis's LONG_STR_SIZE: string2ll refuses strings of 21 characters or more.
constexpr size_t kMaxIntChars = 20;
// Vectors grown past this by one huge request are given back before the next request.
constexpr size_t kKeepArgs = 1024;
constexpr size_t kKeepArena = 64 * 1024;

// isspace() in the C locale, which is what sdssplitargs skips between words.
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

}  // namespace

bool parse_redis_int(std::string_view s, int64_t& out) {
  if (s.empty() || s.size() > kMaxIntChars) return false;
  if (s == "0") {
    out = 0;
    return true;
  }
  size_t i = 0;
  const bool negative = s[0] == '-';
  if (negative && ++i == s.size()) return false;
  if (s[i] < '1' || s[i] > '9') return false;
  uint64_t v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    const auto digit = static_cast<uint64_t>(s[i] - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - digit) / 10) return false;
    v = v * 10 + digit;
  }
  constexpr auto kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (negative) {
    if (v > kMax + 1) return false;
    // -v computed in unsigned arithmetic, then brought back: well defined for v == 2^63.
    out = v == kMax + 1 ? std::numeric_limits<int64_t>::min() : -static_cast<int64_t>(v);
  } else {
    if (v > kMax) return false;
    out = static_cast<int64_t>(v);
  }
  return true;
}

RequestParser::RequestParser(ParserLimits limits) : limits_(limits) {}

void RequestParser::reset() {
  kind_ = Kind::kNone;
  failed_ = false;
  error_.clear();
  args_.clear();
  start_request();
}

void RequestParser::start_request() {
  pos_ = scan_from_ = seen_ = 0;
  remaining_ = 0;
  bulk_len_ = -1;
  if (slices_.capacity() > kKeepArgs) std::vector<Slice>().swap(slices_);
  if (args_.capacity() > kKeepArgs) std::vector<std::string_view>().swap(args_);
  if (arena_.capacity() > kKeepArena) std::string().swap(arena_);
  slices_.clear();
  arena_.clear();
}

uint64_t RequestParser::pending_bulk_bytes() const {
  if (kind_ != Kind::kMultibulk || bulk_len_ < 0) return 0;
  const uint64_t want = static_cast<uint64_t>(bulk_len_) + 2;
  const uint64_t have = seen_ - pos_;
  return want > have ? want - have : 0;
}

RequestParser::Step RequestParser::fail(std::string text) {
  failed_ = true;
  error_ = std::move(text);
  return Step::kError;
}

ParseResult RequestParser::parse(std::string_view buf) {
  if (failed_) return {ParseStatus::kError, 0};
  size_t base = 0;  // first byte of the request being parsed
  for (;;) {
    if (kind_ == Kind::kNone) {
      if (base == buf.size()) return {ParseStatus::kNeedMore, base};
      start_request();
      // Like processInputBuffer: '*' starts a multibulk request, anything else an inline one.
      kind_ = buf[base] == '*' ? Kind::kMultibulk : Kind::kInline;
    }
    const std::string_view req = buf.substr(base);
    if (req.size() < seen_) {
      // The caller did not keep the bytes it showed us last time: start the request over.
      kind_ = Kind::kNone;
      continue;
    }
    const Step step = kind_ == Kind::kMultibulk ? parse_multibulk(req) : parse_inline(req);
    if (step == Step::kNeedMore) {
      seen_ = req.size();
      return {ParseStatus::kNeedMore, base};
    }
    if (step == Step::kError) return {ParseStatus::kError, base};
    last_inline_ = kind_ == Kind::kInline;
    kind_ = Kind::kNone;
    finish(req);
    base += pos_;
    // An empty request (blank line, *0, *-1) runs nothing; Redis resets and reads on.
    if (!args_.empty()) return {ParseStatus::kComplete, base};
  }
}

void RequestParser::finish(std::string_view req) {
  args_.clear();
  args_.reserve(slices_.size());
  for (const Slice& s : slices_) {
    const std::string_view from = s.in_arena ? std::string_view(arena_) : req;
    args_.emplace_back(from.data() + s.offset, s.length);
  }
}

// Redis looks for the '\r' anywhere in what it has buffered and refuses the line only when none
// has arrived and more than PROTO_INLINE_MAX_SIZE bytes wait. That makes the outcome depend on how
// the bytes were cut into reads. We decide from the first max_inline_len + 1 bytes of the line
// alone, so every split of a stream parses the same way; only a line longer than the limit whose
// '\r' arrived in the same read gets "too big ..." here where Redis would say "invalid ...".
RequestParser::Step RequestParser::find_cr(std::string_view req, size_t from, size_t& cr,
                                           const char* too_big) {
  const size_t window_end = std::min(req.size(), from + limits_.max_inline_len + 1);
  const size_t start = std::max(from, scan_from_);
  if (start < window_end) {
    const void* hit = std::memchr(req.data() + start, '\r', window_end - start);
    if (hit != nullptr) {
      cr = static_cast<size_t>(static_cast<const char*>(hit) - req.data());
      scan_from_ = cr;
      // Redis needs one more byte after the '\r' and skips it without looking at it.
      if (cr + 2 > req.size()) return Step::kNeedMore;
      scan_from_ = 0;
      return Step::kDone;
    }
  }
  scan_from_ = std::max(start, window_end);
  if (req.size() - from > limits_.max_inline_len) return fail(too_big);
  return Step::kNeedMore;
}

// The common case of a `*`/`$` line starting at `start`: 1 to 18 digits (no leading zero), then
// '\r' and one more byte, within the line limit. It gives exactly what find_cr + parse_redis_int
// give for such a line; anything else (incomplete, negative, malformed, long) returns false and
// takes the general path, which also produces the errors.
bool RequestParser::quick_line(std::string_view req, size_t start, size_t& cr,
                               int64_t& value) const {
  const size_t from = start + 1;
  const size_t end = std::min(req.size(), from + 18);
  size_t i = from;
  int64_t v = 0;
  while (i < end && req[i] >= '0' && req[i] <= '9') {
    v = v * 10 + (req[i] - '0');
    ++i;
  }
  if (i == from || i + 1 >= req.size() || req[i] != '\r') return false;
  if (req[from] == '0' && i - from > 1) return false;
  if (i - start > limits_.max_inline_len) return false;
  cr = i;
  value = v;
  return true;
}

RequestParser::Step RequestParser::parse_multibulk(std::string_view req) {
  if (remaining_ == 0) {
    // The `*<count>` line.
    size_t cr = 0;
    int64_t count = 0;
    if (!quick_line(req, 0, cr, count)) {
      const Step found = find_cr(req, 0, cr, "ERR Protocol error: too big mbulk count string");
      if (found != Step::kDone) return found;
      if (!parse_redis_int(req.substr(1, cr - 1), count)) {
        return fail("ERR Protocol error: invalid multibulk length");
      }
    }
    if (count > 0 && static_cast<uint64_t>(count) > limits_.max_multibulk_len) {
      return fail("ERR Protocol error: invalid multibulk length");
    }
    scan_from_ = 0;
    pos_ = cr + 2;
    if (count <= 0) return Step::kDone;  // *0 and *-N: an empty request
    remaining_ = static_cast<uint64_t>(count);
    // Room for the arguments as they arrive, never for the announced count at once.
    slices_.reserve(static_cast<size_t>(std::min<uint64_t>(remaining_, kKeepArgs)));
  }
  while (remaining_ > 0) {
    if (bulk_len_ < 0) {
      // The `$<len>` line.
      size_t cr = 0;
      int64_t len = 0;
      if (req[pos_] != '$' || !quick_line(req, pos_, cr, len)) {
        const Step found = find_cr(req, pos_, cr, "ERR Protocol error: too big bulk count string");
        if (found != Step::kDone) return found;
        if (req[pos_] != '$') {
          // Redis formats the byte with %c into a C string: '\r' and '\n' become spaces when
          // the error is sanitised, and a NUL ends the message right there.
          std::string text = "ERR Protocol error: expected '$', got '";
          const char got = req[pos_];
          if (got == '\0') return fail(std::move(text));
          text += (got == '\r' || got == '\n') ? ' ' : got;
          text += '\'';
          return fail(std::move(text));
        }
        if (!parse_redis_int(req.substr(pos_ + 1, cr - pos_ - 1), len) || len < 0) {
          return fail("ERR Protocol error: invalid bulk length");
        }
      }
      if (static_cast<uint64_t>(len) > limits_.max_bulk_len) {
        return fail("ERR Protocol error: invalid bulk length");
      }
      scan_from_ = 0;
      pos_ = cr + 2;
      bulk_len_ = len;
    }
    // The data and two more bytes. Like Redis we skip those two without checking they are "\r\n".
    const auto len = static_cast<uint64_t>(bulk_len_);
    if (req.size() - pos_ < len + 2) return Step::kNeedMore;
    slices_.push_back({pos_, static_cast<size_t>(len), false});
    pos_ += static_cast<size_t>(len) + 2;
    bulk_len_ = -1;
    --remaining_;
  }
  return Step::kDone;
}

RequestParser::Step RequestParser::parse_inline(std::string_view req) {
  // Same window rule as find_cr: a line is refused when no '\n' is among its first
  // max_inline_len + 1 bytes, whatever the reads were.
  const size_t window_end = std::min(req.size(), limits_.max_inline_len + 1);
  const size_t start = scan_from_;
  const void* hit =
      start < window_end ? std::memchr(req.data() + start, '\n', window_end - start) : nullptr;
  if (hit == nullptr) {
    scan_from_ = std::max(start, window_end);
    if (req.size() > limits_.max_inline_len) {
      return fail("ERR Protocol error: too big inline request");
    }
    return Step::kNeedMore;
  }
  const auto nl = static_cast<size_t>(static_cast<const char*>(hit) - req.data());
  const size_t end = (nl > 0 && req[nl - 1] == '\r') ? nl - 1 : nl;
  if (!split_inline(req.substr(0, end))) {
    return fail("ERR Protocol error: unbalanced quotes in request");
  }
  pos_ = nl + 1;
  return Step::kDone;
}

// sdssplitargs (src/sds.c) over one line, which has no '\n'. One difference: sdssplitargs works
// on a C string and stops at a NUL byte; here a NUL is an ordinary byte (in Redis such a request
// never completes, because the line end is searched with strchr).
bool RequestParser::split_inline(std::string_view line) {
  const size_t n = line.size();
  size_t i = 0;
  for (;;) {
    while (i < n && is_space(line[i]))
      ++i;
    if (i == n) return true;
    const size_t word = i;
    // An unquoted run ends at space, tab, CR or the end; \v and \f do not end it.
    while (i < n && line[i] != ' ' && line[i] != '\t' && line[i] != '\r' && line[i] != '"' &&
           line[i] != '\'') {
      ++i;
    }
    if (i == n || (line[i] != '"' && line[i] != '\'')) {
      slices_.push_back({word, i - word, false});
      continue;
    }
    // A quote, possibly after an unquoted prefix (`ab"cd"` is one word, "abcd"): the word is
    // built unescaped in the arena.
    const size_t out = arena_.size();
    arena_.append(line.substr(word, i - word));
    const char quote = line[i++];
    for (;;) {
      if (i == n) return false;  // unterminated
      const char c = line[i];
      if (quote == '"' && c == '\\' && i + 3 < n && line[i + 1] == 'x' && is_hex(line[i + 2]) &&
          is_hex(line[i + 3])) {
        arena_ += static_cast<char>(hex_value(line[i + 2]) * 16 + hex_value(line[i + 3]));
        i += 4;
      } else if (quote == '"' && c == '\\' && i + 1 < n) {
        const char e = line[i + 1];
        arena_ += e == 'n'   ? '\n'
                  : e == 'r' ? '\r'
                  : e == 't' ? '\t'
                  : e == 'b' ? '\b'
                  : e == 'a' ? '\a'
                             : e;
        i += 2;
      } else if (quote == '\'' && c == '\\' && i + 1 < n && line[i + 1] == '\'') {
        arena_ += '\'';
        i += 2;
      } else if (c == quote) {
        // The closing quote must be followed by a space or nothing at all.
        if (i + 1 < n && !is_space(line[i + 1])) return false;
        ++i;
        break;
      } else {
        arena_ += c;
        ++i;
      }
    }
    slices_.push_back({out, arena_.size() - out, true});
  }
}

}  // namespace cairn::server::resp
