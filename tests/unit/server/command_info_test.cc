// COMMAND replies: byte-exact against what redis-server 7.0.15 sends for commands whose entries
// have no key specs or tips (which we leave out), in RESP2 and RESP3, plus the shapes of COUNT,
// DOCS, LIST and HELP.
#include "server/resp/command_info.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "server/resp/parser.h"

namespace cairn::server::resp {
namespace {

std::string reply(std::vector<std::string_view> argv, Protocol protocol = Protocol::kResp2) {
  std::string error;
  EXPECT_NE(resolve(argv, error), nullptr) << error;
  std::string out;
  ReplyWriter w(out, protocol);
  reply_command(argv, w);
  return out;
}

// Counts the top-level RESP values in `s`, checking it is well formed: every reply is complete.
size_t count_values(std::string_view s) {
  size_t pos = 0;
  size_t values = 0;
  std::vector<int64_t> pending;  // elements still owed by open aggregates
  while (pos < s.size()) {
    const size_t cr = s.find("\r\n", pos);
    EXPECT_NE(cr, std::string_view::npos);
    if (cr == std::string_view::npos) return 0;
    const char type = s[pos];
    const std::string_view body = s.substr(pos + 1, cr - pos - 1);
    pos = cr + 2;
    int64_t children = 0;
    if (type == '$') {
      int64_t len = 0;
      EXPECT_TRUE(parse_redis_int(body, len));
      if (len > 0) pos += static_cast<size_t>(len) + 2;
      if (len == 0) pos += 2;
    } else if (type == '*' || type == '~' || type == '%') {
      EXPECT_TRUE(parse_redis_int(body, children));
      if (type == '%') children *= 2;
    } else {
      EXPECT_TRUE(type == '+' || type == ':' || type == '_' || type == '-') << type;
    }
    while (!pending.empty() && pending.back() == 0)
      pending.pop_back();
    if (pending.empty()) {
      ++values;
    } else {
      --pending.back();
    }
    if (children > 0) pending.push_back(children);
    while (!pending.empty() && pending.back() == 0)
      pending.pop_back();
  }
  EXPECT_EQ(pos, s.size());
  EXPECT_TRUE(pending.empty());
  return values;
}

TEST(CommandInfo, InfoMatchesRedisByteForByte) {
  // Captured from redis-server 7.0.15: COMMAND INFO echo nosuch.
  EXPECT_EQ(reply({"COMMAND", "INFO", "echo", "nosuch"}),
            "*2\r\n*10\r\n$4\r\necho\r\n:2\r\n*3\r\n+loading\r\n+stale\r\n+fast\r\n:0\r\n:0\r\n"
            ":0\r\n*2\r\n+@fast\r\n+@connection\r\n*0\r\n*0\r\n*0\r\n$-1\r\n");
  EXPECT_EQ(reply({"command", "info", "ECHO", "nosuch"}, Protocol::kResp3),
            "*2\r\n*10\r\n$4\r\necho\r\n:2\r\n~3\r\n+loading\r\n+stale\r\n+fast\r\n:0\r\n:0\r\n"
            ":0\r\n~2\r\n+@fast\r\n+@connection\r\n~0\r\n~0\r\n~0\r\n_\r\n");
  // A subcommand by its full name.
  EXPECT_EQ(reply({"COMMAND", "INFO", "client|setname"}),
            "*1\r\n*10\r\n$14\r\nclient|setname\r\n:3\r\n*3\r\n+noscript\r\n+loading\r\n"
            "+stale\r\n:0\r\n:0\r\n:0\r\n*2\r\n+@slow\r\n+@connection\r\n*0\r\n*0\r\n*0\r\n");
}

TEST(CommandInfo, KeyPositionsAndContainers) {
  const std::string get = reply({"COMMAND", "INFO", "get"});
  EXPECT_TRUE(
      get.starts_with("*1\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n"
                      ":1\r\n:1\r\n:1\r\n*3\r\n+@read\r\n+@string\r\n+@fast\r\n"))
      << get;
  const std::string client = reply({"COMMAND", "INFO", "CLIENT"});
  EXPECT_NE(client.find("*5\r\n*10\r\n$14\r\nclient|getname\r\n"), std::string::npos);
  EXPECT_EQ(count_values(client), 1u);
}

TEST(CommandInfo, FindByFullname) {
  EXPECT_EQ(find_by_fullname("GET"), find_command("get"));
  EXPECT_EQ(find_by_fullname("Client|SetName")->id, CommandId::kClientSetname);
  EXPECT_EQ(find_by_fullname("client|nope"), nullptr);
  EXPECT_EQ(find_by_fullname("nope|get"), nullptr);
  EXPECT_EQ(find_by_fullname("get|x"), nullptr);
}

TEST(CommandInfo, CountListAndAll) {
  const size_t n = all_commands().size();
  EXPECT_EQ(reply({"COMMAND", "COUNT"}), ":" + std::to_string(n) + "\r\n");
  const std::string all = reply({"COMMAND"});
  EXPECT_EQ(all.substr(0, all.find("\r\n")), "*" + std::to_string(n));
  EXPECT_EQ(count_values(all), 1u);
  EXPECT_EQ(reply({"COMMAND", "INFO"}), all);
  const std::string list = reply({"COMMAND", "LIST"});
  EXPECT_EQ(count_values(list), 1u);
  EXPECT_NE(list.find("$3\r\nget\r\n"), std::string::npos);
  EXPECT_NE(list.find("$14\r\nclient|setname\r\n"), std::string::npos);
  EXPECT_EQ(reply({"COMMAND", "LIST", "FILTERBY", "PATTERN", "g*"}), "-ERR syntax error\r\n");
}

TEST(CommandInfo, Docs) {
  EXPECT_EQ(reply({"COMMAND", "DOCS", "echo", "nosuch"}),
            "*2\r\n$4\r\necho\r\n*8\r\n$7\r\nsummary\r\n$21\r\nEcho the given string\r\n"
            "$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$10\r\nconnection\r\n"
            "$10\r\ncomplexity\r\n$4\r\nO(1)\r\n");
  EXPECT_EQ(reply({"COMMAND", "DOCS", "echo"}, Protocol::kResp3),
            "%1\r\n$4\r\necho\r\n%4\r\n$7\r\nsummary\r\n$21\r\nEcho the given string\r\n"
            "$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$10\r\nconnection\r\n"
            "$10\r\ncomplexity\r\n$4\r\nO(1)\r\n");
  EXPECT_EQ(reply({"COMMAND", "DOCS", "nosuch"}), "*0\r\n");
  const std::string client = reply({"COMMAND", "DOCS", "client"}, Protocol::kResp3);
  EXPECT_NE(client.find("$11\r\nsubcommands\r\n%5\r\n$14\r\nclient|getname\r\n%4\r\n"),
            std::string::npos);
  // redis-cli asks for everything when it starts.
  const std::string all = reply({"COMMAND", "DOCS"}, Protocol::kResp3);
  EXPECT_EQ(all.substr(0, all.find("\r\n")), "%" + std::to_string(all_commands().size()));
  EXPECT_EQ(count_values(all), 1u);
  EXPECT_EQ(count_values(reply({"COMMAND", "DOCS"})), 1u);
}

TEST(CommandInfo, Help) {
  const std::string help = reply({"COMMAND", "HELP"});
  EXPECT_TRUE(help.starts_with(
      "*17\r\n+COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n"))
      << help;
  EXPECT_EQ(count_values(help), 1u);
  EXPECT_NE(help.find("+HELP\r\n+    Prints this help.\r\n"), std::string::npos);
}

}  // namespace
}  // namespace cairn::server::resp
