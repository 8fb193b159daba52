// Command table: every DESIGN §7 command is there with Redis 7.0's arity and key positions,
// lookups ignore case, and the unknown-command, unknown-subcommand and arity errors are worded
// byte for byte as redis-server 7.0 words them.
#include "server/resp/command_table.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace cairn::server::resp {
namespace {

std::string resolve_error(std::vector<std::string_view> argv) {
  std::string error;
  const CommandInfo* cmd = resolve(argv, error);
  EXPECT_EQ(cmd, nullptr) << argv[0];
  return error;
}

const CommandInfo* resolved(std::vector<std::string_view> argv) {
  std::string error;
  const CommandInfo* cmd = resolve(argv, error);
  EXPECT_NE(cmd, nullptr) << argv[0] << ": " << error;
  EXPECT_TRUE(cmd == nullptr || error.empty());
  return cmd;
}

TEST(CommandTable, HasEveryDesignCommandWithRedisArity) {
  // name, arity, first key, last key, step: Redis 7.0's values.
  struct Want {
    const char* name;
    int arity;
    int first, last, step;
  };
  const std::vector<Want> want = {
      {"get", 2, 1, 1, 1},         {"set", -3, 1, 1, 1},      {"setnx", 3, 1, 1, 1},
      {"setex", 4, 1, 1, 1},       {"psetex", 4, 1, 1, 1},    {"getset", 3, 1, 1, 1},
      {"getdel", 2, 1, 1, 1},      {"getex", -2, 1, 1, 1},    {"mget", -2, 1, -1, 1},
      {"mset", -3, 1, -1, 2},      {"msetnx", -3, 1, -1, 2},  {"del", -2, 1, -1, 1},
      {"unlink", -2, 1, -1, 1},    {"exists", -2, 1, -1, 1},  {"expire", -3, 1, 1, 1},
      {"pexpire", -3, 1, 1, 1},    {"expireat", -3, 1, 1, 1}, {"pexpireat", -3, 1, 1, 1},
      {"ttl", 2, 1, 1, 1},         {"pttl", 2, 1, 1, 1},      {"expiretime", 2, 1, 1, 1},
      {"persist", 2, 1, 1, 1},     {"incr", 2, 1, 1, 1},      {"incrby", 3, 1, 1, 1},
      {"incrbyfloat", 3, 1, 1, 1}, {"decr", 2, 1, 1, 1},      {"decrby", 3, 1, 1, 1},
      {"append", 3, 1, 1, 1},      {"strlen", 2, 1, 1, 1},    {"getrange", 4, 1, 1, 1},
      {"setrange", 4, 1, 1, 1},    {"type", 2, 1, 1, 1},      {"keys", 2, 0, 0, 0},
      {"scan", -2, 0, 0, 0},       {"randomkey", 1, 0, 0, 0}, {"dbsize", 1, 0, 0, 0},
      {"flushdb", -1, 0, 0, 0},    {"flushall", -1, 0, 0, 0}, {"ping", -1, 0, 0, 0},
      {"echo", 2, 0, 0, 0},        {"select", 2, 0, 0, 0},    {"quit", -1, 0, 0, 0},
      {"reset", 1, 0, 0, 0},       {"client", -2, 0, 0, 0},   {"command", -1, 0, 0, 0},
      {"config", -2, 0, 0, 0},     {"info", -1, 0, 0, 0},     {"readonly", 1, 0, 0, 0},
      {"readwrite", 1, 0, 0, 0},   {"wait", 3, 0, 0, 0},      {"time", 1, 0, 0, 0},
      {"hello", -1, 0, 0, 0},      {"cas", 4, 1, 1, 1},       {"rename", 3, 1, 2, 1},
      {"renamenx", 3, 1, 2, 1},    {"copy", -3, 1, 2, 1},     {"touch", -2, 1, -1, 1},
      {"pexpiretime", 2, 1, 1, 1}, {"setbit", 4, 1, 1, 1},    {"getbit", 3, 1, 1, 1},
      {"lcs", -3, 1, 2, 1},        {"bitfield", -2, 1, 1, 1}, {"bitfield_ro", -2, 1, 1, 1},
      {"bitcount", -2, 1, 1, 1},   {"bitpos", -3, 1, 1, 1},   {"bitop", -4, 2, -1, 1},
  };
  for (const Want& w : want) {
    const CommandInfo* c = find_command(w.name);
    ASSERT_NE(c, nullptr) << w.name;
    EXPECT_EQ(c->name, w.name);
    EXPECT_EQ(c->fullname, w.name);
    EXPECT_EQ(c->arity, w.arity) << w.name;
    EXPECT_EQ(c->first_key, w.first) << w.name;
    EXPECT_EQ(c->last_key, w.last) << w.name;
    EXPECT_EQ(c->key_step, w.step) << w.name;
  }
  EXPECT_EQ(all_commands().size(), want.size()) << "a command without a test above";
}

// `COMMAND INFO <name>` of redis-server 7.0.15 for every command we share with it (name, arity,
// flags, first key, last key, step, ACL categories, each list in Redis's order), checked against
// a live server.
constexpr std::string_view kRedis70CommandInfo = R"(
append 3 write,denyoom,fast, 1 1 1 @write,@string,@fast,
bitcount -2 readonly, 1 1 1 @read,@bitmap,@slow,
bitfield -2 write,denyoom, 1 1 1 @write,@bitmap,@slow,
bitfield_ro -2 readonly,fast, 1 1 1 @read,@bitmap,@fast,
bitop -4 write,denyoom, 2 -1 1 @write,@bitmap,@slow,
bitpos -3 readonly, 1 1 1 @read,@bitmap,@slow,
client -2  0 0 0 @slow,
client|getname 2 noscript,loading,stale, 0 0 0 @slow,@connection,
client|help 2 loading,stale, 0 0 0 @slow,@connection,
client|id 2 noscript,loading,stale, 0 0 0 @slow,@connection,
client|info 2 noscript,loading,stale, 0 0 0 @slow,@connection,
client|setname 3 noscript,loading,stale, 0 0 0 @slow,@connection,
command -1 loading,stale, 0 0 0 @slow,@connection,
command|count 2 loading,stale, 0 0 0 @slow,@connection,
command|docs -2 loading,stale, 0 0 0 @slow,@connection,
command|help 2 loading,stale, 0 0 0 @slow,@connection,
command|info -2 loading,stale, 0 0 0 @slow,@connection,
command|list -2 loading,stale, 0 0 0 @slow,@connection,
config -2  0 0 0 @slow,
config|get -3 admin,noscript,loading,stale, 0 0 0 @admin,@slow,@dangerous,
config|help 2 loading,stale, 0 0 0 @slow,
config|set -4 admin,noscript,loading,stale, 0 0 0 @admin,@slow,@dangerous,
copy -3 write,denyoom, 1 2 1 @keyspace,@write,@slow,
dbsize 1 readonly,fast, 0 0 0 @keyspace,@read,@fast,
decr 2 write,denyoom,fast, 1 1 1 @write,@string,@fast,
decrby 3 write,denyoom,fast, 1 1 1 @write,@string,@fast,
del -2 write, 1 -1 1 @keyspace,@write,@slow,
echo 2 loading,stale,fast, 0 0 0 @fast,@connection,
exists -2 readonly,fast, 1 -1 1 @keyspace,@read,@fast,
expire -3 write,fast, 1 1 1 @keyspace,@write,@fast,
expireat -3 write,fast, 1 1 1 @keyspace,@write,@fast,
expiretime 2 readonly,fast, 1 1 1 @keyspace,@read,@fast,
flushall -1 write, 0 0 0 @keyspace,@write,@slow,@dangerous,
flushdb -1 write, 0 0 0 @keyspace,@write,@slow,@dangerous,
get 2 readonly,fast, 1 1 1 @read,@string,@fast,
getbit 3 readonly,fast, 1 1 1 @read,@bitmap,@fast,
getdel 2 write,fast, 1 1 1 @write,@string,@fast,
getex -2 write,fast, 1 1 1 @write,@string,@fast,
getrange 4 readonly, 1 1 1 @read,@string,@slow,
getset 3 write,denyoom,fast, 1 1 1 @write,@string,@fast,
hello -1 noscript,loading,stale,fast,no_auth,allow_busy, 0 0 0 @fast,@connection,
incr 2 write,denyoom,fast, 1 1 1 @write,@string,@fast,
incrby 3 write,denyoom,fast, 1 1 1 @write,@string,@fast,
incrbyfloat 3 write,denyoom,fast, 1 1 1 @write,@string,@fast,
info -1 loading,stale, 0 0 0 @slow,@dangerous,
keys 2 readonly, 0 0 0 @keyspace,@read,@slow,@dangerous,
lcs -3 readonly, 1 2 1 @read,@string,@slow,
mget -2 readonly,fast, 1 -1 1 @read,@string,@fast,
mset -3 write,denyoom, 1 -1 2 @write,@string,@slow,
msetnx -3 write,denyoom, 1 -1 2 @write,@string,@slow,
persist 2 write,fast, 1 1 1 @keyspace,@write,@fast,
pexpire -3 write,fast, 1 1 1 @keyspace,@write,@fast,
pexpireat -3 write,fast, 1 1 1 @keyspace,@write,@fast,
pexpiretime 2 readonly,fast, 1 1 1 @keyspace,@read,@fast,
ping -1 fast, 0 0 0 @fast,@connection,
psetex 4 write,denyoom, 1 1 1 @write,@string,@slow,
pttl 2 readonly,fast, 1 1 1 @keyspace,@read,@fast,
quit -1 noscript,loading,stale,fast,no_auth,allow_busy, 0 0 0 @fast,@connection,
randomkey 1 readonly, 0 0 0 @keyspace,@read,@slow,
readonly 1 loading,stale,fast, 0 0 0 @fast,@connection,
readwrite 1 loading,stale,fast, 0 0 0 @fast,@connection,
rename 3 write, 1 2 1 @keyspace,@write,@slow,
renamenx 3 write,fast, 1 2 1 @keyspace,@write,@fast,
reset 1 noscript,loading,stale,fast,no_auth,allow_busy, 0 0 0 @fast,@connection,
scan -2 readonly, 0 0 0 @keyspace,@read,@slow,
select 2 loading,stale,fast, 0 0 0 @fast,@connection,
set -3 write,denyoom, 1 1 1 @write,@string,@slow,
setbit 4 write,denyoom, 1 1 1 @write,@bitmap,@slow,
setex 4 write,denyoom, 1 1 1 @write,@string,@slow,
setnx 3 write,denyoom,fast, 1 1 1 @write,@string,@fast,
setrange 4 write,denyoom, 1 1 1 @write,@string,@slow,
strlen 2 readonly,fast, 1 1 1 @read,@string,@fast,
time 1 loading,stale,fast, 0 0 0 @fast,
touch -2 readonly,fast, 1 -1 1 @keyspace,@read,@fast,
ttl 2 readonly,fast, 1 1 1 @keyspace,@read,@fast,
type 2 readonly,fast, 1 1 1 @keyspace,@read,@fast,
unlink -2 write,fast, 1 -1 1 @keyspace,@write,@fast,
wait 3 noscript, 0 0 0 @slow,@connection,
)";

std::string describe(const CommandInfo& c) {
  std::string s = std::string(c.fullname) + " " + std::to_string(c.arity) + " ";
  for (size_t i = 0; i < flag_names().size(); ++i) {
    if (c.flags & (1u << i)) s += std::string(flag_names()[i]) + ",";
  }
  s += " " + std::to_string(c.first_key) + " " + std::to_string(c.last_key) + " " +
       std::to_string(c.key_step) + " ";
  for (size_t i = 0; i < acl_category_names().size(); ++i) {
    if (c.acl & (1u << i)) s += std::string(acl_category_names()[i]) + ",";
  }
  return s + "\n";
}

TEST(CommandTable, MatchesRedis70CommandInfo) {
  std::string ours = "\n";
  for (const CommandInfo& c : all_commands()) {
    if (c.id == CommandId::kCas) continue;
    ours += describe(c);
    for (const CommandInfo& sub : c.subcommands)
      ours += describe(sub);
  }
  EXPECT_EQ(ours, kRedis70CommandInfo);
}

TEST(CommandTable, AllCommandsSortedAndUnique) {
  std::set<std::string_view> names;
  std::string_view previous;
  for (const CommandInfo& c : all_commands()) {
    EXPECT_LT(previous, c.name);
    previous = c.name;
    EXPECT_TRUE(names.insert(c.name).second);
    EXPECT_EQ(find_command(c.name), &c);
    EXPECT_FALSE(c.summary.empty()) << c.name;
    EXPECT_FALSE(c.group.empty()) << c.name;
    EXPECT_FALSE(c.since.empty()) << c.name;
  }
}

TEST(CommandTable, LookupIgnoresCaseOnly) {
  EXPECT_EQ(find_command("GET"), find_command("get"));
  EXPECT_EQ(find_command("gEt"), find_command("get"));
  EXPECT_EQ(find_command("IncrByFloat")->id, CommandId::kIncrbyfloat);
  EXPECT_EQ(find_command(""), nullptr);
  EXPECT_EQ(find_command("ge"), nullptr);
  EXPECT_EQ(find_command("gett"), nullptr);
  EXPECT_EQ(find_command("hget"), nullptr);
  // Bytes that differ from a letter only in bit 0x20 but are not its other case.
  EXPECT_EQ(find_command("GE\x14"), nullptr);
  EXPECT_EQ(find_command("G\x05T"), nullptr);
  EXPECT_EQ(find_command(std::string_view("get\0", 4)), nullptr);
  // '_' is not a letter: it matches itself only (| 0x20 would make it DEL, 0x7f).
  EXPECT_EQ(find_command("BITFIELD_RO")->id, CommandId::kBitfieldRo);
  EXPECT_EQ(find_command("bitfield\x7fro"), nullptr);
}

TEST(CommandTable, FlagsAndCategories) {
  const CommandInfo* get = find_command("get");
  EXPECT_TRUE(get->has_flag(kFlagReadonly));
  EXPECT_TRUE(get->has_flag(kFlagFast));
  EXPECT_FALSE(get->has_flag(kFlagWrite));
  EXPECT_EQ(get->acl, kAclRead | kAclString | kAclFast);
  const CommandInfo* set = find_command("set");
  EXPECT_TRUE(set->has_flag(kFlagWrite));
  EXPECT_TRUE(set->has_flag(kFlagDenyOom));
  EXPECT_EQ(set->acl, kAclWrite | kAclString | kAclSlow);
  const CommandInfo* cas = find_command("CAS");
  EXPECT_EQ(cas->id, CommandId::kCas);
  EXPECT_TRUE(cas->has_flag(kFlagWrite));
  // Every keyed command is either a write or a read, so the node knows how to route it.
  for (const CommandInfo& c : all_commands()) {
    if (c.first_key > 0) {
      EXPECT_NE(c.has_flag(kFlagWrite), c.has_flag(kFlagReadonly)) << c.name;
    }
  }
  EXPECT_EQ(flag_names().size(), 10u);
  EXPECT_EQ(flag_names()[0], "write");
  EXPECT_EQ(acl_category_names()[1], "@read");
}

TEST(CommandTable, Subcommands) {
  const CommandInfo* client = find_command("client");
  ASSERT_TRUE(client->is_container());
  const CommandInfo* setname = find_subcommand(*client, "SetName");
  ASSERT_NE(setname, nullptr);
  EXPECT_EQ(setname->name, "setname");
  EXPECT_EQ(setname->fullname, "client|setname");
  EXPECT_EQ(setname->arity, 3);
  EXPECT_EQ(find_subcommand(*client, "kill"), nullptr);
  EXPECT_NE(find_subcommand(*find_command("command"), "docs"), nullptr);
  EXPECT_NE(find_subcommand(*find_command("config"), "GET"), nullptr);
  EXPECT_FALSE(find_command("get")->is_container());
}

TEST(CommandTable, ResolveFindsCommandsAndSubcommands) {
  EXPECT_EQ(resolved({"GET", "k"})->id, CommandId::kGet);
  EXPECT_EQ(resolved({"set", "k", "v", "EX", "10"})->id, CommandId::kSet);
  EXPECT_EQ(resolved({"client", "setname", "x"})->id, CommandId::kClientSetname);
  EXPECT_EQ(resolved({"CLIENT", "ID"})->id, CommandId::kClientId);
  EXPECT_EQ(resolved({"COMMAND"})->id, CommandId::kCommand);  // a container that runs alone
  EXPECT_EQ(resolved({"command", "docs"})->id, CommandId::kCommandDocs);
  EXPECT_EQ(resolved({"COMMAND", "COUNT"})->id, CommandId::kCommandCount);
  EXPECT_EQ(resolved({"config", "get", "maxmemory"})->id, CommandId::kConfigGet);
  EXPECT_EQ(resolved({"ping"})->id, CommandId::kPing);
  EXPECT_EQ(resolved({"cas", "k", "old", "new"})->id, CommandId::kCas);
}

TEST(CommandTable, ArityErrorsUseTheCanonicalName) {
  EXPECT_EQ(resolve_error({"GET"}), "ERR wrong number of arguments for 'get' command");
  EXPECT_EQ(resolve_error({"get", "a", "b"}), "ERR wrong number of arguments for 'get' command");
  EXPECT_EQ(resolve_error({"SeT", "k"}), "ERR wrong number of arguments for 'set' command");
  EXPECT_EQ(resolve_error({"mset", "k"}), "ERR wrong number of arguments for 'mset' command");
  EXPECT_EQ(resolve_error({"CLIENT"}), "ERR wrong number of arguments for 'client' command");
  EXPECT_EQ(resolve_error({"client", "SETNAME"}),
            "ERR wrong number of arguments for 'client|setname' command");
  EXPECT_EQ(resolve_error({"CONFIG", "GET"}),
            "ERR wrong number of arguments for 'config|get' command");
  EXPECT_EQ(resolve_error({"cas", "k", "v"}), "ERR wrong number of arguments for 'cas' command");
  EXPECT_TRUE(check_arity(*find_command("get"), 2));
  EXPECT_FALSE(check_arity(*find_command("get"), 1));
  EXPECT_TRUE(check_arity(*find_command("del"), 5));
  EXPECT_FALSE(check_arity(*find_command("del"), 1));
  EXPECT_EQ(arity_error(*find_command("ttl")), "ERR wrong number of arguments for 'ttl' command");
}

TEST(CommandTable, UnknownCommandErrors) {
  EXPECT_EQ(resolve_error({"foo"}), "ERR unknown command 'foo', with args beginning with: ");
  EXPECT_EQ(resolve_error({"foo", "a", "b"}),
            "ERR unknown command 'foo', with args beginning with: 'a' 'b' ");
  EXPECT_EQ(resolve_error({"HGET", "h", "f"}),
            "ERR unknown command 'HGET', with args beginning with: 'h' 'f' ");
  // Newlines from the client become spaces so the reply stays one line.
  EXPECT_EQ(resolve_error({"a\r\nb", "c\nd"}),
            "ERR unknown command 'a  b', with args beginning with: 'c d' ");
  // A NUL ends a word, as printf's %s would.
  EXPECT_EQ(resolve_error({std::string_view("fo\0o", 4), std::string_view("x\0y", 3)}),
            "ERR unknown command 'fo', with args beginning with: 'x' ");
}

// The arguments are cut at 128 characters of "'arg' " text; the name at 128 characters.
TEST(CommandTable, UnknownCommandTruncation) {
  const std::string a200(200, 'a');
  const std::string n300(300, 'n');
  EXPECT_EQ(resolve_error({n300, a200, "b"}), "ERR unknown command '" + std::string(128, 'n') +
                                                  "', with args beginning with: '" +
                                                  std::string(128, 'a') + "' ");
  // After "'0123456789' " (13 characters) the next argument may show 128 - 13 = 115.
  EXPECT_EQ(resolve_error({"x", "0123456789", a200, "c"}),
            "ERR unknown command 'x', with args beginning with: '0123456789' '" +
                std::string(115, 'a') + "' ");
  // Arguments keep coming while the text is under 128 characters: each "'b' " adds 4, so after
  // 32 of them the text is 128 long and the rest are left out.
  std::vector<std::string_view> many = {"x"};
  for (int i = 0; i < 40; ++i)
    many.push_back("b");
  std::string want = "ERR unknown command 'x', with args beginning with: ";
  for (int i = 0; i < 32; ++i)
    want += "'b' ";
  EXPECT_EQ(resolve_error(many), want);
  // After "'c' " (4 characters) a long argument shows its first 124.
  const std::string b130(130, 'b');
  EXPECT_EQ(
      resolve_error({"x", "c", b130}),
      "ERR unknown command 'x', with args beginning with: 'c' '" + std::string(124, 'b') + "' ");
}

TEST(CommandTable, UnknownSubcommandErrors) {
  EXPECT_EQ(resolve_error({"client", "kill", "x"}),
            "ERR unknown subcommand 'kill'. Try CLIENT HELP.");
  EXPECT_EQ(resolve_error({"Config", "RESETSTAT"}),
            "ERR unknown subcommand 'RESETSTAT'. Try CONFIG HELP.");
  EXPECT_EQ(resolve_error({"command", std::string(200, 'z')}),
            "ERR unknown subcommand '" + std::string(128, 'z') + "'. Try COMMAND HELP.");
  EXPECT_EQ(unknown_subcommand_error("client", "a\r\nb"),
            "ERR unknown subcommand 'a  b'. Try CLIENT HELP.");
}

}  // namespace
}  // namespace cairn::server::resp
