// ReplyWriter: every reply type byte for byte in RESP2 and in RESP3, as redis-server 7.0 writes
// them to a client of each protocol.
#include "server/resp/reply.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

namespace cairn::server::resp {
namespace {

struct Case {
  const char* name;
  std::function<void(ReplyWriter&)> write;
  std::string resp2;
  std::string resp3;
};

std::string written(Protocol protocol, const std::function<void(ReplyWriter&)>& write) {
  std::string out = "prefix|";  // replies append; they never clear what is there
  ReplyWriter w(out, protocol);
  write(w);
  return out.substr(7);
}

TEST(ReplyWriter, EveryTypeInBothProtocols) {
  using namespace std::string_literals;
  const std::vector<Case> cases = {
      {"ok", [](ReplyWriter& w) { w.ok(); }, "+OK\r\n", "+OK\r\n"},
      {"simple", [](ReplyWriter& w) { w.simple("PONG"); }, "+PONG\r\n", "+PONG\r\n"},
      {"simple_crlf", [](ReplyWriter& w) { w.simple("a\r\nb"); }, "+a  b\r\n", "+a  b\r\n"},
      {"error", [](ReplyWriter& w) { w.error("ERR wrong number of arguments for 'get' command"); },
       "-ERR wrong number of arguments for 'get' command\r\n",
       "-ERR wrong number of arguments for 'get' command\r\n"},
      {"error_crlf", [](ReplyWriter& w) { w.error("ERR x\ny\r"); }, "-ERR x y \r\n",
       "-ERR x y \r\n"},
      {"integer", [](ReplyWriter& w) { w.integer(42); }, ":42\r\n", ":42\r\n"},
      {"integer_min", [](ReplyWriter& w) { w.integer(std::numeric_limits<int64_t>::min()); },
       ":-9223372036854775808\r\n", ":-9223372036854775808\r\n"},
      {"integer_zero", [](ReplyWriter& w) { w.integer(0); }, ":0\r\n", ":0\r\n"},
      {"bulk", [](ReplyWriter& w) { w.bulk("hello"); }, "$5\r\nhello\r\n", "$5\r\nhello\r\n"},
      {"bulk_binary", [](ReplyWriter& w) { w.bulk("a\r\n\0"s); }, "$4\r\na\r\n\0\r\n"s,
       "$4\r\na\r\n\0\r\n"s},
      {"bulk_empty", [](ReplyWriter& w) { w.bulk(""); }, "$0\r\n\r\n", "$0\r\n\r\n"},
      {"null", [](ReplyWriter& w) { w.null(); }, "$-1\r\n", "_\r\n"},
      {"null_array", [](ReplyWriter& w) { w.null_array(); }, "*-1\r\n", "_\r\n"},
      {"array",
       [](ReplyWriter& w) {
         w.array(3);
         w.bulk("a");
         w.null();
         w.integer(1);
       },
       "*3\r\n$1\r\na\r\n$-1\r\n:1\r\n", "*3\r\n$1\r\na\r\n_\r\n:1\r\n"},
      {"empty_array", [](ReplyWriter& w) { w.array(0); }, "*0\r\n", "*0\r\n"},
      {"map",
       [](ReplyWriter& w) {
         w.map(2);
         w.bulk("server");
         w.bulk("cairn");
         w.bulk("proto");
         w.integer(3);
       },
       "*4\r\n$6\r\nserver\r\n$5\r\ncairn\r\n$5\r\nproto\r\n:3\r\n",
       "%2\r\n$6\r\nserver\r\n$5\r\ncairn\r\n$5\r\nproto\r\n:3\r\n"},
      {"empty_map", [](ReplyWriter& w) { w.map(0); }, "*0\r\n", "%0\r\n"},
      {"set",
       [](ReplyWriter& w) {
         w.set(1);
         w.bulk("x");
       },
       "*1\r\n$1\r\nx\r\n", "~1\r\n$1\r\nx\r\n"},
      {"push", [](ReplyWriter& w) { w.push(2); }, "*2\r\n", ">2\r\n"},
      {"double", [](ReplyWriter& w) { w.real(1.5); }, "$3\r\n1.5\r\n", ",1.5\r\n"},
      // Redis 7.0 prints doubles with "%.17g": 0.1 shows its binary error.
      {"double_17g", [](ReplyWriter& w) { w.real(0.1); }, "$19\r\n0.10000000000000001\r\n",
       ",0.10000000000000001\r\n"},
      {"double_integral", [](ReplyWriter& w) { w.real(3.0); }, "$1\r\n3\r\n", ",3\r\n"},
      {"double_exponent", [](ReplyWriter& w) { w.real(1e20); }, "$5\r\n1e+20\r\n", ",1e+20\r\n"},
      {"double_small", [](ReplyWriter& w) { w.real(-0x1p-20); }, "$20\r\n-9.5367431640625e-07\r\n",
       ",-9.5367431640625e-07\r\n"},
      {"double_inf", [](ReplyWriter& w) { w.real(std::numeric_limits<double>::infinity()); },
       "$3\r\ninf\r\n", ",inf\r\n"},
      {"double_minus_inf", [](ReplyWriter& w) { w.real(-std::numeric_limits<double>::infinity()); },
       "$4\r\n-inf\r\n", ",-inf\r\n"},
      {"double_nan", [](ReplyWriter& w) { w.real(std::numeric_limits<double>::quiet_NaN()); },
       "$3\r\nnan\r\n", ",nan\r\n"},
      {"true", [](ReplyWriter& w) { w.boolean(true); }, ":1\r\n", "#t\r\n"},
      {"false", [](ReplyWriter& w) { w.boolean(false); }, ":0\r\n", "#f\r\n"},
      {"verbatim", [](ReplyWriter& w) { w.verbatim("# Server\r\nx:1"); },
       "$13\r\n# Server\r\nx:1\r\n", "=17\r\ntxt:# Server\r\nx:1\r\n"},
      {"verbatim_markdown", [](ReplyWriter& w) { w.verbatim("*hi*", "mkd"); }, "$4\r\n*hi*\r\n",
       "=8\r\nmkd:*hi*\r\n"},
      {"verbatim_short_format", [](ReplyWriter& w) { w.verbatim("", "x"); }, "$0\r\n\r\n",
       "=4\r\nx  :\r\n"},
      {"big_number",
       [](ReplyWriter& w) { w.big_number("3492890328409238509324850943850943825024385"); },
       "$43\r\n3492890328409238509324850943850943825024385\r\n",
       "(3492890328409238509324850943850943825024385\r\n"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(written(Protocol::kResp2, c.write), c.resp2) << c.name << " in RESP2";
    EXPECT_EQ(written(Protocol::kResp3, c.write), c.resp3) << c.name << " in RESP3";
  }
}

// HELLO switches a connection's protocol between replies.
TEST(ReplyWriter, ProtocolIsPerConnectionAndSwitchable) {
  std::string a;
  std::string b;
  ReplyWriter w2(a, Protocol::kResp2);
  ReplyWriter w3(b, Protocol::kResp3);
  w2.null();
  w3.null();
  EXPECT_EQ(a, "$-1\r\n");
  EXPECT_EQ(b, "_\r\n");
  w2.set_protocol(Protocol::kResp3);
  EXPECT_EQ(w2.protocol(), Protocol::kResp3);
  w2.null();
  EXPECT_EQ(a, "$-1\r\n_\r\n");
  EXPECT_EQ(&w2.buffer(), &a);
}

TEST(ReplyWriter, LargeCountsAndLengths) {
  std::string out;
  ReplyWriter w(out, Protocol::kResp2);
  w.map(size_t{1} << 40);
  EXPECT_EQ(out, "*2199023255552\r\n");
  out.clear();
  const std::string big(100000, 'v');
  w.bulk(big);
  EXPECT_EQ(out, "$100000\r\n" + big + "\r\n");
}

}  // namespace
}  // namespace cairn::server::resp
