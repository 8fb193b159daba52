// libFuzzer target for the Redis front end's receive path: arbitrary bytes go through
// RequestParser, cut into reads of sizes chosen by the input, as a connection feeds it. Checked on
// every input, beyond "no crash, over-read, leak or UB" (ASan/UBSan) and no huge allocation
// (libFuzzer's malloc limit):
//  - however the stream is cut, the requests, the error and the bytes left over are the same as
//    when it arrives in one read;
//  - consumed never exceeds the buffer, a complete request has arguments, and each argument lies
//    in the caller's buffer (or is an unescaped quoted inline word);
//  - a multibulk re-encoding of each request parses back to the same arguments;
//  - an error is one of the texts Redis sends, and written as a reply it is a single line;
//  - resolving each request against the command table either finds a command that accepts that
//    many arguments or gives an error that starts with "ERR ".
//
// Input layout: byte 0 chooses the read sizes and the limits; the rest is the stream.
// A violated property aborts with a message, which libFuzzer reports as a crash.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "server/resp/command_table.h"
#include "server/resp/parser.h"
#include "server/resp/reply.h"

namespace {

using cairn::server::resp::ParserLimits;
using cairn::server::resp::ParseStatus;
using cairn::server::resp::RequestParser;

void require(bool ok, const char* property) {
  if (!ok) {
    std::fprintf(stderr, "resp_parser_fuzz: property violated: %s\n", property);
    std::abort();
  }
}

struct Outcome {
  std::vector<std::vector<std::string>> requests;
  std::string error;
  size_t left_over = 0;
  bool operator==(const Outcome&) const = default;
};

bool known_error(std::string_view e) {
  static constexpr std::string_view kTexts[] = {
      "ERR Protocol error: invalid multibulk length",
      "ERR Protocol error: invalid bulk length",
      "ERR Protocol error: too big inline request",
      "ERR Protocol error: too big mbulk count string",
      "ERR Protocol error: too big bulk count string",
      "ERR Protocol error: unbalanced quotes in request",
  };
  for (std::string_view t : kTexts) {
    if (e == t) return true;
  }
  constexpr std::string_view kExpected = "ERR Protocol error: expected '$', got '";
  return e.substr(0, kExpected.size()) == kExpected &&
         (e.size() == kExpected.size() || (e.size() == kExpected.size() + 2 && e.back() == '\''));
}

std::string multibulk(const std::vector<std::string>& args) {
  std::string s = "*" + std::to_string(args.size()) + "\r\n";
  for (const std::string& a : args)
    s += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return s;
}

void check_request(const std::vector<std::string>& args, const ParserLimits& limits) {
  // Round trip through multibulk (when it fits the limits it was parsed under).
  bool fits = args.size() <= limits.max_multibulk_len;
  for (const std::string& a : args)
    fits = fits && a.size() <= limits.max_bulk_len;
  if (fits) {
    RequestParser again(limits);
    const std::string encoded = multibulk(args);
    const auto r = again.parse(encoded);
    require(r.status == ParseStatus::kComplete && r.consumed == encoded.size(),
            "a re-encoded request parses completely");
    require(again.args().size() == args.size(), "re-encoding keeps the argument count");
    for (size_t i = 0; i < args.size(); ++i) {
      require(again.args()[i] == args[i], "re-encoding keeps every argument");
    }
  }
  std::vector<std::string_view> argv(args.begin(), args.end());
  std::string error;
  const auto* cmd = cairn::server::resp::resolve(argv, error);
  if (cmd != nullptr) {
    require(error.empty() && cairn::server::resp::check_arity(*cmd, argv.size()),
            "a resolved command accepts its arguments");
  } else {
    require(error.rfind("ERR ", 0) == 0, "a refused command gets an ERR reply");
    require(error.find('\r') == std::string::npos && error.find('\n') == std::string::npos,
            "command errors are one line");
  }
}

// Feeds `stream` to a fresh parser in the reads `cut` chooses, as a connection would.
template <typename Cut>
Outcome run(std::string_view stream, const ParserLimits& limits, Cut cut) {
  RequestParser parser(limits);
  Outcome out;
  std::string buf;
  size_t fed = 0;
  while (fed < stream.size()) {
    const size_t n = cut(stream.size() - fed);
    buf.append(stream.substr(fed, n));
    fed += n;
    for (;;) {
      const auto r = parser.parse(buf);
      require(r.consumed <= buf.size(), "consumed stays within the buffer");
      if (r.status == ParseStatus::kError) {
        out.error = parser.error();
        require(known_error(out.error), "the error is one Redis sends");
        std::string reply;
        cairn::server::resp::ReplyWriter(reply).error(out.error);
        require(reply.find('\n') == reply.size() - 1, "the error reply is one line");
        return out;
      }
      if (r.status == ParseStatus::kComplete) {
        require(!parser.args().empty(), "a complete request has arguments");
        std::vector<std::string> args;
        for (std::string_view a : parser.args()) {
          // Compared as integers: the pointers may belong to different objects.
          const auto at = reinterpret_cast<uintptr_t>(a.data());
          const auto begin = reinterpret_cast<uintptr_t>(buf.data());
          const bool in_buffer = at >= begin && at + a.size() <= begin + r.consumed;
          require(in_buffer || parser.last_was_inline(), "multibulk arguments lie in the request");
          args.emplace_back(a);
        }
        out.requests.push_back(std::move(args));
      }
      buf.erase(0, r.consumed);
      if (r.status == ParseStatus::kNeedMore) break;
    }
  }
  out.left_over = buf.size();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t control = data[0];
  const std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);

  // Small limits for most inputs, so every limit is within the fuzzer's reach; the defaults
  // (512 MiB bulk, 1M arguments, 64 KiB lines) for 1 in 4.
  ParserLimits limits;
  if ((control & 0xc0) != 0xc0) {
    limits.max_bulk_len = 1 + (control & 0x3f);
    limits.max_multibulk_len = 1 + (control & 0x0f);
    limits.max_inline_len = 4 + (control & 0x3f);
  }

  const Outcome whole = run(stream, limits, [](size_t left) { return left; });
  for (const auto& request : whole.requests)
    check_request(request, limits);

  const Outcome bytewise = run(stream, limits, [](size_t) { return size_t{1}; });
  require(bytewise == whole, "a byte at a time parses as one read");

  uint32_t state = control + 1u;
  const Outcome random = run(stream, limits, [&state](size_t left) {
    state = state * 1103515245u + 12345u;
    const size_t n = 1 + (state >> 16) % 64;
    return n < left ? n : left;
  });
  require(random == whole, "random reads parse as one read");
  return 0;
}
