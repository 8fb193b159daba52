// The Redis commands cairn answers (DESIGN §7), with the metadata redis-server 7.0 keeps for each:
// arity, flags, key positions, ACL categories and the short docs COMMAND DOCS returns. The table is
// constant and built at compile time, including the case-insensitive name index, so lookups never
// allocate and the table is safe to read from any thread.
//
// Arity follows Redis: positive means exactly that many words, negative means at least -arity,
// both counting the command name. Container commands (CLIENT, CONFIG, COMMAND) have subcommands;
// resolve() finds the subcommand the way Redis's lookupCommand does.
//
// CAS is cairn's own: `CAS key expected new` sets key to new only if it currently holds exactly
// expected, and replies :1 if it did, :0 if not (also when the key does not exist); the key keeps
// its TTL (the cache's CompareAndSet with Expiry::keep()). It is a write, so it goes through Raft
// like SET, and its check-and-set is atomic because apply is. See docs/resp.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace cairn::server::resp {

// What a command is, for the node to dispatch on.
enum class CommandId : uint16_t {
  kGet,
  kSet,
  kSetnx,
  kSetex,
  kPsetex,
  kGetset,
  kGetdel,
  kGetex,
  kMget,
  kMset,
  kMsetnx,
  kDel,
  kUnlink,
  kExists,
  kExpire,
  kPexpire,
  kExpireat,
  kPexpireat,
  kTtl,
  kPttl,
  kExpiretime,
  kPersist,
  kIncr,
  kIncrby,
  kIncrbyfloat,
  kDecr,
  kDecrby,
  kAppend,
  kStrlen,
  kGetrange,
  kSetrange,
  kType,
  kKeys,
  kScan,
  kRandomkey,
  kDbsize,
  kFlushdb,
  kFlushall,
  kCas,
  kPing,
  kEcho,
  kSelect,
  kQuit,
  kReset,
  kHello,
  kReadonly,
  kReadwrite,
  kWait,
  kTime,
  kInfo,
  kClient,
  kClientSetname,
  kClientGetname,
  kClientId,
  kClientInfo,
  kClientHelp,
  kCommand,
  kCommandCount,
  kCommandInfo,
  kCommandDocs,
  kCommandList,
  kCommandHelp,
  kConfig,
  kConfigGet,
  kConfigHelp,
  kConfigSet,
  kCopy,
  kRename,
  kRenamenx,
  kTouch,
  kPexpiretime,
  kBitcount,
  kBitop,
  kBitpos,
  kGetbit,
  kSetbit,
  kBitfield,
  kBitfieldRo,
  kLcs,
};

// Command flags as Redis names them in COMMAND INFO (flag_names() gives the text), in its order.
enum CommandFlag : uint32_t {
  kFlagWrite = 1u << 0,
  kFlagReadonly = 1u << 1,
  kFlagDenyOom = 1u << 2,
  kFlagAdmin = 1u << 3,
  kFlagNoscript = 1u << 4,
  kFlagLoading = 1u << 5,
  kFlagStale = 1u << 6,
  kFlagFast = 1u << 7,
  kFlagNoAuth = 1u << 8,
  kFlagAllowBusy = 1u << 9,
};

// ACL categories (acl_category_names() gives "@read" etc.), in the order Redis lists them.
// "@slow" is implied by the absence of kFlagFast, as in Redis.
enum AclCategory : uint32_t {
  kAclKeyspace = 1u << 0,
  kAclRead = 1u << 1,
  kAclWrite = 1u << 2,
  kAclString = 1u << 3,
  kAclBitmap = 1u << 4,
  kAclAdmin = 1u << 5,
  kAclFast = 1u << 6,
  kAclSlow = 1u << 7,
  kAclDangerous = 1u << 8,
  kAclConnection = 1u << 9,
};

struct CommandInfo {
  CommandId id;
  std::string_view name;      // lowercase; for a subcommand its own word, e.g. "setname"
  std::string_view fullname;  // as Redis 7 names it in errors and COMMAND INFO: "client|setname"
  int arity;
  uint32_t flags;  // CommandFlag bits
  uint32_t acl;    // AclCategory bits
  int first_key;   // 0 when the command takes no key
  int last_key;    // -1: the last argument
  int key_step;
  std::span<const CommandInfo> subcommands;
  // For COMMAND DOCS.
  std::string_view summary;
  std::string_view since;
  std::string_view group;
  std::string_view complexity;

  bool has_flag(CommandFlag f) const { return (flags & f) != 0; }
  bool is_container() const { return !subcommands.empty(); }
};

// All top-level commands, sorted by name (COMMAND and COMMAND LIST order).
std::span<const CommandInfo> all_commands();

// Case-insensitive lookup of a top-level command or of a container's subcommand; nullptr if none.
const CommandInfo* find_command(std::string_view name);
const CommandInfo* find_subcommand(const CommandInfo& container, std::string_view name);

// What redis-server 7.0 does before it runs anything: find the command (a container with more than
// one word resolves to its subcommand) and check its arity. On failure returns nullptr and sets
// `error` to the text to send as an error reply, byte for byte as Redis sends it:
//   ERR unknown command 'foo', with args beginning with: 'a' 'b'     (note the trailing space)
//   ERR unknown subcommand 'nope'. Try CLIENT HELP.
//   ERR wrong number of arguments for 'get' command               (the canonical lowercase name)
// `argv` must not be empty.
const CommandInfo* resolve(std::span<const std::string_view> argv, std::string& error);

// The pieces of resolve(), for callers that have already looked the command up.
bool check_arity(const CommandInfo& cmd, size_t argc);
std::string arity_error(const CommandInfo& cmd);
std::string unknown_command_error(std::span<const std::string_view> argv);
std::string unknown_subcommand_error(std::string_view container, std::string_view sub);

// Names for COMMAND INFO, in bit order.
std::span<const std::string_view> flag_names();
std::span<const std::string_view> acl_category_names();

}  // namespace cairn::server::resp
