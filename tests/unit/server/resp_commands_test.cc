// Redis commands as cache commands: option parsing and argument errors as redis-server 7.0 words
// them, and reads served from an engine. No node, no sockets.
#include "server/resp_commands.h"

#include <gtest/gtest.h>

#include "cache/codec.h"

#include <string>
#include <vector>

namespace cairn::server {
namespace {

using resp::CommandId;

struct Args {
  explicit Args(std::vector<std::string> a) : words(std::move(a)) {
    for (const auto& w : words)
      views.emplace_back(w);
  }
  std::vector<std::string> words;
  std::vector<std::string_view> views;
};

Result<WritePlan, std::string> plan(CommandId id, std::vector<std::string> words) {
  Args a(std::move(words));
  return plan_write(id, a.views);
}

// A plan's command, decoded from the bytes it will be proposed as.
cache::Command command(const WritePlan& p) {
  auto d = cache::decode_entry(p.command);
  EXPECT_TRUE(d.ok()) << d.error().message;
  return d.ok() ? d->command : cache::Command{};
}

std::string error_of(CommandId id, std::vector<std::string> words) {
  auto p = plan(id, std::move(words));
  return p.ok() ? std::string("(no error)") : p.error();
}

TEST(RespCommands, SetOptionsBecomeOnePut) {
  auto p = plan(CommandId::kSet, {"SET", "k", "v", "nx", "GET", "px", "1500"});
  ASSERT_TRUE(p.ok());
  const auto put = std::get<cache::Put>(command(*p));
  EXPECT_EQ(put.key, "k");
  EXPECT_EQ(put.value, "v");
  EXPECT_EQ(put.condition, cache::PutCondition::kIfAbsent);
  EXPECT_TRUE(put.get_old);
  EXPECT_EQ(put.expiry, cache::Expiry::relative(1500));
  auto keep = plan(CommandId::kSet, {"SET", "k", "v", "KEEPTTL", "XX"});
  ASSERT_TRUE(keep.ok());
  EXPECT_EQ(std::get<cache::Put>(command(*keep)).expiry, cache::Expiry::keep());
  auto at = plan(CommandId::kSet, {"SET", "k", "v", "EXAT", "2000000000"});
  EXPECT_EQ(std::get<cache::Put>(command(*at)).expiry, cache::Expiry::absolute(2000000000000));
}

TEST(RespCommands, SetErrorsAsRedis) {
  EXPECT_EQ(error_of(CommandId::kSet, {"SET", "k", "v", "NX", "XX"}), "ERR syntax error");
  EXPECT_EQ(error_of(CommandId::kSet, {"SET", "k", "v", "EX", "1", "PX", "2"}), "ERR syntax error");
  EXPECT_EQ(error_of(CommandId::kSet, {"SET", "k", "v", "KEEPTTL", "EX", "1"}), "ERR syntax error");
  EXPECT_EQ(error_of(CommandId::kSet, {"SET", "k", "v", "EX"}), "ERR syntax error");
  EXPECT_EQ(error_of(CommandId::kSet, {"SET", "k", "v", "EX", "0"}),
            "ERR invalid expire time in 'set' command");
  EXPECT_EQ(error_of(CommandId::kSet, {"SET", "k", "v", "EX", "9223372036854775807"}),
            "ERR invalid expire time in 'set' command");
  EXPECT_EQ(error_of(CommandId::kSet, {"SET", "k", "v", "PX", "1x"}),
            "ERR value is not an integer or out of range");
  EXPECT_EQ(error_of(CommandId::kSetex, {"SETEX", "k", "-1", "v"}),
            "ERR invalid expire time in 'setex' command");
  EXPECT_EQ(error_of(CommandId::kGetex, {"GETEX", "k", "PERSIST", "PX", "1"}), "ERR syntax error");
  EXPECT_EQ(error_of(CommandId::kGetex, {"GETEX", "k", "NX"}), "ERR syntax error");
}

TEST(RespCommands, ExpireOptionsAndErrors) {
  auto p = plan(CommandId::kExpire, {"EXPIRE", "k", "10", "gt"});
  ASSERT_TRUE(p.ok());
  const auto e = std::get<cache::Expire>(command(*p));
  EXPECT_EQ(e.expiry, cache::Expiry::relative(10000));
  EXPECT_EQ(e.condition, cache::ExpireCondition::kGt);
  // XX with LT keeps both conditions (before, LT alone: a key without a TTL got one).
  auto xx_lt = plan(CommandId::kExpire, {"EXPIRE", "k", "200", "LT", "XX"});
  ASSERT_TRUE(xx_lt.ok());
  EXPECT_EQ(std::get<cache::Expire>(command(*xx_lt)).condition, cache::ExpireCondition::kXxLt);
  auto xx_gt = plan(CommandId::kExpire, {"EXPIRE", "k", "200", "XX", "GT"});
  ASSERT_TRUE(xx_gt.ok());
  EXPECT_EQ(std::get<cache::Expire>(command(*xx_gt)).condition, cache::ExpireCondition::kGt);
  EXPECT_EQ(error_of(CommandId::kExpire, {"EXPIRE", "k", "10", "NX", "LT"}),
            "ERR NX and XX, GT or LT options at the same time are not compatible");
  EXPECT_EQ(error_of(CommandId::kPexpire, {"PEXPIRE", "k", "10", "GT", "LT"}),
            "ERR GT and LT options at the same time are not compatible");
  EXPECT_EQ(error_of(CommandId::kExpire, {"EXPIRE", "k", "x", "BAD"}),
            "ERR Unsupported option BAD");  // options are checked before the number
  EXPECT_EQ(error_of(CommandId::kExpireat, {"EXPIREAT", "k", "9223372036854776"}),
            "ERR invalid expire time in 'expireat' command");
}

TEST(RespCommands, CountersMsetFlushCas) {
  auto decr = plan(CommandId::kDecrby, {"DECRBY", "n", "5"});
  EXPECT_EQ(std::get<cache::IncrBy>(command(*decr)).delta, -5);
  EXPECT_EQ(error_of(CommandId::kDecrby, {"DECRBY", "n", "-9223372036854775808"}),
            "ERR decrement would overflow");
  EXPECT_EQ(error_of(CommandId::kIncrby, {"INCRBY", "n", "1.5"}),
            "ERR value is not an integer or out of range");
  // MSET and MSETNX are one PutMany each: atomic, as in Redis.
  auto mset = plan(CommandId::kMset, {"MSET", "a", "1", "b", "2"});
  EXPECT_EQ(command(*mset), cache::Command(cache::PutMany{{"a", "1", "b", "2"}, false}));
  EXPECT_EQ(mset->shape, WriteShape::kAsIs);
  EXPECT_EQ(error_of(CommandId::kMset, {"MSET", "a", "1", "b"}),
            "ERR wrong number of arguments for 'mset' command");
  auto msetnx = plan(CommandId::kMsetnx, {"MSETNX", "a", "1", "b", "2"});
  EXPECT_EQ(command(*msetnx), cache::Command(cache::PutMany{{"a", "1", "b", "2"}, true}));
  EXPECT_EQ(error_of(CommandId::kFlushall, {"FLUSHALL", "NOW"}), "ERR syntax error");
  EXPECT_TRUE(plan(CommandId::kFlushdb, {"FLUSHDB", "async"}).ok());
  auto cas = plan(CommandId::kCas, {"CAS", "k", "old", "new"});
  const auto c = std::get<cache::CompareAndSet>(command(*cas));
  EXPECT_EQ(c.expected, "old");
  EXPECT_EQ(c.value, "new");
  EXPECT_EQ(c.expiry, cache::Expiry::keep());
  EXPECT_EQ(error_of(CommandId::kSetrange, {"SETRANGE", "k", "-1", "x"}),
            "ERR offset is out of range");
}

TEST(RespCommands, EngineRepliesByShape) {
  std::string out;
  resp::ReplyWriter w(out);
  write_engine_reply(cache::Ok{}, WriteShape::kBool, w);
  write_engine_reply(cache::Nil{}, WriteShape::kBool, w);
  write_engine_reply(cache::Nil{}, WriteShape::kAsIs, w);
  write_engine_reply(cache::Reply{cache::Bytes("x")}, WriteShape::kAsIs, w);
  write_engine_reply(cache::Error{cache::ErrorCode::kNotInteger, std::string(kErrNotInteger)},
                     WriteShape::kAsIs, w);
  EXPECT_EQ(out, ":1\r\n:0\r\n$-1\r\n$1\r\nx\r\n-ERR value is not an integer or out of range\r\n");
}

TEST(RespCommands, ReadsFromTheEngine) {
  cache::Engine engine;
  engine.apply(cache::Put{"k", "hello", cache::PutCondition::kAlways, false,
                          cache::Expiry::relative(10'000)},
               1'000);
  auto serve = [&](std::vector<std::string> words, resp::Protocol proto = resp::Protocol::kResp2) {
    Args a(std::move(words));
    std::string out;
    resp::ReplyWriter w(out, proto);
    serve_read(resp::find_command(a.views[0])->id, a.views, engine, w);
    return out;
  };
  EXPECT_EQ(serve({"GET", "k"}), "$5\r\nhello\r\n");
  EXPECT_EQ(serve({"GET", "nope"}), "$-1\r\n");
  EXPECT_EQ(serve({"GET", "nope"}, resp::Protocol::kResp3), "_\r\n");
  EXPECT_EQ(serve({"MGET", "k", "nope"}), "*2\r\n$5\r\nhello\r\n$-1\r\n");
  EXPECT_EQ(serve({"TTL", "k"}), ":10\r\n");
  EXPECT_EQ(serve({"PTTL", "k"}), ":10000\r\n");
  EXPECT_EQ(serve({"EXPIRETIME", "k"}), ":11\r\n");
  EXPECT_EQ(serve({"TTL", "nope"}), ":-2\r\n");
  EXPECT_EQ(serve({"TYPE", "k"}), "+string\r\n");
  EXPECT_EQ(serve({"TYPE", "nope"}), "+none\r\n");
  EXPECT_EQ(serve({"GETRANGE", "k", "1", "-2"}), "$3\r\nell\r\n");
  EXPECT_EQ(serve({"GETRANGE", "k", "x", "1"}), "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(serve({"DBSIZE"}), ":1\r\n");
  // KEYS walks the keyspace in steps, driven by the session (redis_py_test.py covers it).
  EXPECT_EQ(serve({"KEYS", "*"}), "-ERR not a read command\r\n");
  EXPECT_EQ(serve({"SCAN", "0", "MATCH", "k*"}), "*2\r\n$1\r\n0\r\n*1\r\n$1\r\nk\r\n");
  EXPECT_EQ(serve({"SCAN", "0", "TYPE", "list"}), "*2\r\n$1\r\n0\r\n*0\r\n");
  EXPECT_EQ(serve({"SCAN", "-1"}), "-ERR invalid cursor\r\n");
  EXPECT_EQ(serve({"SCAN", "0", "COUNT", "0"}), "-ERR syntax error\r\n");
  EXPECT_EQ(serve({"RANDOMKEY"}), "$1\r\nk\r\n");
  EXPECT_EQ(serve({"EXISTS", "k", "k", "nope"}), ":2\r\n");
  EXPECT_EQ(serve({"STRLEN", "k"}), ":5\r\n");
}

TEST(RespCommands, ClusterErrorsSayWhetherToRetry) {
  EXPECT_EQ(cluster_error("no leader: an election is under way"),
            "TRYAGAIN no leader: an election is under way");
  EXPECT_EQ(cluster_error("shutting down"), "TRYAGAIN shutting down");
  EXPECT_EQ(cluster_error("timeout: no answer"), "ERR timeout: no answer");
  EXPECT_EQ(cluster_error("dropped: leadership changed"), "ERR dropped: leadership changed");
}

}  // namespace
}  // namespace cairn::server
