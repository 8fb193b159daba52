// RESP request parser: turns the bytes a Redis client sends into argument vectors, accepting what
// redis-server 7.0 accepts (processInlineBuffer / processMultibulkBuffer in src/networking.c):
//
//   multibulk  *<count>\r\n then <count> times $<len>\r\n<len bytes>\r\n
//   inline     a line of space-separated words ending in \n (or \r\n), with Redis's quoting:
//              "double quotes" with \n \r \t \b \a \xHH and \<any> escapes, 'single quotes' with \'
//
// Many requests may sit in one buffer (pipelining) and a request may be cut anywhere. parse()
// looks at the start of the caller's buffer and answers complete, need-more or error; it never
// reads past the buffer and never allocates from a length the client announced before those bytes
// have arrived (a `$1000000000` header costs nothing until a gigabyte is actually sent).
//
// Threading: one RequestParser per connection, used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cairn::server::resp {

struct ParserLimits {
  // Longest bulk string (Redis: proto-max-bulk-len, 512 MiB). cairn passes its value limit here.
  uint64_t max_bulk_len = 512ull * 1024 * 1024;
  // Most arguments in one multibulk request. Redis 7.0 allows INT_MAX and grows argv as the
  // arguments arrive; we keep the older 1024*1024 cap, which no client command comes near.
  uint64_t max_multibulk_len = 1024 * 1024;
  // Longest inline request, and longest `*<count>` / `$<len>` line (Redis: PROTO_INLINE_MAX_SIZE).
  size_t max_inline_len = 64 * 1024;
};

enum class ParseStatus : uint8_t {
  kComplete,  // args() holds one request; drop `consumed` bytes
  kNeedMore,  // the request at the front is incomplete; drop `consumed` bytes (see below), read
              // more
  kError,     // protocol error: reply error() and close the connection (the stream is lost)
};

struct ParseResult {
  ParseStatus status;
  // Bytes at the front of the buffer the caller may drop. With kComplete: the request plus any
  // empty requests before it. With kNeedMore: only empty requests (blank inline lines, `*0`,
  // `*-1`) skipped before the incomplete one -- never a byte of the incomplete request itself.
  size_t consumed;
};

class RequestParser {
 public:
  explicit RequestParser(ParserLimits limits = {});

  // Parses the next request at the front of `buf`.
  //
  // After kNeedMore the parser remembers how far it got, so a large request arriving in many
  // reads is scanned once, not once per read. The caller must then pass the same unconsumed bytes
  // again (they may have moved in memory) with more appended. Passing fewer bytes than before
  // restarts the request from scratch.
  //
  // After kError every further call returns kError: the stream cannot be resynchronised.
  ParseResult parse(std::string_view buf);

  // The arguments of the last kComplete request. They point into the caller's buffer (or, for
  // quoted inline words, into the parser), so they stay valid until the caller changes or drops
  // those bytes or calls parse() again, whichever comes first. Chosen for speed: a pipelined
  // multibulk request is parsed without copying or allocating once the vectors have warmed up.
  std::span<const std::string_view> args() const { return args_; }

  // True when the last complete request was an inline one.
  bool last_was_inline() const { return last_inline_; }

  // After kError: the reply text as Redis words it, e.g. "ERR Protocol error: invalid bulk
  // length" (send it as an error reply: "-" + text + "\r\n").
  const std::string& error() const { return error_; }

  // Bytes of the bulk string being read that have not arrived yet (0 when not inside one). A
  // connection may use it to read a large argument in big chunks; it is the client's claim, so
  // grow a buffer towards it as bytes arrive rather than reserving it at once.
  uint64_t pending_bulk_bytes() const;

  // Forgets any partial request and a past error.
  void reset();

  const ParserLimits& limits() const { return limits_; }

 private:
  enum class Kind : uint8_t { kNone, kMultibulk, kInline };
  enum class Step : uint8_t { kDone, kNeedMore, kError };

  // A parsed argument as a position, so it survives the buffer moving between calls.
  struct Slice {
    size_t offset;
    size_t length;
    bool in_arena;  // inline words with quotes are unescaped into arena_
  };

  Step parse_multibulk(std::string_view req);
  Step parse_inline(std::string_view req);
  // Finds the '\r' ending a `*`/`$` line that starts at `from`; see the .cc for the rules.
  Step find_cr(std::string_view req, size_t from, size_t& cr, const char* too_big);
  bool quick_line(std::string_view req, size_t start, size_t& cr, int64_t& value) const;
  bool split_inline(std::string_view line);
  Step fail(std::string text);
  void finish(std::string_view req);
  void start_request();

  ParserLimits limits_;

  // State of the request being parsed, relative to its first byte. Invariant: pos_ <= seen_,
  // where seen_ is how many bytes of it the last call saw.
  Kind kind_ = Kind::kNone;
  size_t pos_ = 0;          // next unparsed byte
  size_t scan_from_ = 0;    // where to resume looking for a line end (bytes before hold none)
  size_t seen_ = 0;         // request bytes available at the last kNeedMore
  uint64_t remaining_ = 0;  // multibulk arguments still to read
  int64_t bulk_len_ = -1;   // length of the bulk being read, -1 while reading its `$` line
  std::vector<Slice> slices_;
  std::string arena_;

  std::vector<std::string_view> args_;
  bool last_inline_ = false;
  bool failed_ = false;
  std::string error_;
};

// Redis's string2ll: an optional '-', then digits with no leading zero (or just "0"), at most 20
// characters, within int64. Anything else ("+1", "01", "-0", " 1", "") is not a number.
bool parse_redis_int(std::string_view s, int64_t& out);

}  // namespace cairn::server::resp
