// Client buffer limits: Redis's memory values, client-output-buffer-limit's format and CONFIG SET's
// checks, with the texts redis-server 7.0.15 gives (tests/integration/resp/client_buffers_test.py
// compares the replies on the wire).
#include "server/resp_limits.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cairn::server {
namespace {

TEST(RespLimits, MemoryValuesAsRedis) {
  EXPECT_EQ(parse_memory("1024"), 1024u);
  EXPECT_EQ(parse_memory("1k"), 1000u);
  EXPECT_EQ(parse_memory("1KB"), 1024u);
  EXPECT_EQ(parse_memory("2mb"), 2u << 20);
  EXPECT_EQ(parse_memory("1G"), 1000000000u);
  EXPECT_EQ(parse_memory("1gb"), 1ull << 30);
  EXPECT_EQ(parse_memory("mb"), 0u);  // no digits: 0, as memtoull
  EXPECT_EQ(parse_memory(""), 0u);
  EXPECT_EQ(parse_memory("99999999999999999999"), UINT64_MAX);  // saturates
  EXPECT_FALSE(parse_memory("-1"));
  EXPECT_FALSE(parse_memory("+1"));
  EXPECT_FALSE(parse_memory("1.5mb"));
  EXPECT_FALSE(parse_memory(" 1"));
  EXPECT_FALSE(parse_memory("1tb"));
}

TEST(RespLimits, OutputLimitsFormatAndParse) {
  OutputBufferLimits l = kDefaultOutputBufferLimits;
  EXPECT_EQ(format_output_limits(l),
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60");
  EXPECT_EQ(parse_output_limits("normal 64mb 32mb 10 replica 1 2 3", l), "");
  EXPECT_EQ(l[0], (OutputBufferLimit{64u << 20, 32u << 20, 10}));
  EXPECT_EQ(l[1], (OutputBufferLimit{1, 2, 3}));
  const OutputBufferLimits before = l;
  EXPECT_EQ(parse_output_limits("normal 1 2", l),
            "Wrong number of arguments in buffer limit configuration.");
  EXPECT_EQ(parse_output_limits("normal  1 2 3", l),
            "Wrong number of arguments in buffer limit configuration.");
  EXPECT_EQ(parse_output_limits("master 1 2 3", l),
            "Invalid client class specified in buffer limit configuration.");
  EXPECT_EQ(parse_output_limits("pubsub 1 1 1 normal 1 1 -1", l),
            "Error in hard, soft or soft_seconds setting in buffer limit configuration.");
  // 2^63-1 seconds truncated to int is -1, as Redis keeps them.
  EXPECT_EQ(parse_output_limits("normal 1 1 9223372036854775807", l),
            "Error in hard, soft or soft_seconds setting in buffer limit configuration.");
  EXPECT_EQ(l, before);  // nothing of a refused value is applied
  EXPECT_EQ(parse_output_limits("", l), "");
  EXPECT_EQ(l, before);
}

TEST(RespLimits, ConfigSetChecksEveryNameFirstAndAppliesAllOrNothing) {
  ClientLimits limits(kDefaultQueryBufferLimit, kDefaultOutputBufferLimits);
  const std::vector<std::string> fixed = {"maxmemory", "port"};
  auto set = [&](std::vector<std::string_view> argv) { return config_set(argv, limits, fixed); };
  EXPECT_EQ(set({"CONFIG", "SET", "client-query-buffer-limit", "2mb"}), "");
  EXPECT_EQ(limits.query_buffer_limit(), 2u << 20);
  EXPECT_EQ(set({"CONFIG", "SET", "nosuch", "1", "client-query-buffer-limit", "x"}),
            "ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'");
  EXPECT_EQ(set({"CONFIG", "SET", "Port", "1"}),
            "ERR CONFIG SET failed (possibly related to argument 'Port') - can't set immutable "
            "config");
  EXPECT_EQ(set({"CONFIG", "SET", "a", "b", "c"}), "ERR syntax error");
  EXPECT_EQ(set({"CONFIG", "SET", "client-query-buffer-limit", "3mb", "client-output-buffer-limit",
                 "normal 1"}),
            "ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - "
            "Wrong number of arguments in buffer limit configuration.");
  EXPECT_EQ(limits.query_buffer_limit(), 2u << 20);
  EXPECT_EQ(set({"CONFIG", "SET", "client-query-buffer-limit", "1000"}),
            "ERR CONFIG SET failed (possibly related to argument 'client-query-buffer-limit') - "
            "argument must be between 1048576 and 9223372036854775807 inclusive");
  EXPECT_EQ(set({"CONFIG", "SET", "client-query-buffer-limit", "9223372036854775808"}),
            "ERR CONFIG SET failed (possibly related to argument 'client-query-buffer-limit') - "
            "argument must be between 1048576 and 9223372036854775807 inclusive");
  EXPECT_EQ(set({"CONFIG", "SET", "client-output-buffer-limit", "normal 4mb 2mb 5"}), "");
  EXPECT_EQ(limits.output(ClientClass::kNormal), (OutputBufferLimit{4u << 20, 2u << 20, 5}));
}

}  // namespace
}  // namespace cairn::server
