// The command table (see command_table.h). Arity, flags, key positions, ACL categories, groups,
// "since" versions and summaries are those of redis-server 7.0's src/commands/*.json, so COMMAND
// INFO and COMMAND DOCS look familiar to clients; CAS is ours.
// Threading: everything here is constant, built at compile time; read it from any thread.
#include "server/resp/command_table.h"

#include <algorithm>
#include <array>

namespace cairn::server::resp {

namespace {

constexpr uint32_t W = kFlagWrite, R = kFlagReadonly, DENYOOM = kFlagDenyOom, FAST = kFlagFast,
                   LOADING = kFlagLoading, STALE = kFlagStale, NOSCRIPT = kFlagNoscript,
                   NO_AUTH = kFlagNoAuth, ALLOW_BUSY = kFlagAllowBusy, ADMIN = kFlagAdmin;
constexpr uint32_t KEYSPACE = kAclKeyspace, STRING = kAclString, BITMAP = kAclBitmap,
                   DANGEROUS = kAclDangerous, CONNECTION = kAclConnection;

// Builds one entry. Like Redis's setImplicitACLCategories, the categories implied by the flags
// (write -> @write, readonly -> @read, admin -> @admin @dangerous, fast -> @fast, else @slow) are
// added to the ones the command names itself.
constexpr CommandInfo make(CommandId id, std::string_view fullname, int arity, uint32_t flags,
                           uint32_t acl, int first_key, int last_key, int key_step,
                           std::string_view group, std::string_view since, std::string_view summary,
                           std::string_view complexity,
                           std::span<const CommandInfo> subcommands = {}) {
  if (flags & kFlagWrite) acl |= kAclWrite;
  if (flags & kFlagReadonly) acl |= kAclRead;
  if (flags & kFlagAdmin) acl |= kAclAdmin | kAclDangerous;
  acl |= (flags & kFlagFast) ? kAclFast : kAclSlow;
  const size_t bar = fullname.find('|');
  const std::string_view name = bar == std::string_view::npos ? fullname : fullname.substr(bar + 1);
  return CommandInfo{id,       name,     fullname,    arity,   flags, acl,   first_key,
                     last_key, key_step, subcommands, summary, since, group, complexity};
}

using enum CommandId;

constexpr CommandInfo kClientSubcommands[] = {
    make(kClientGetname, "client|getname", 2, NOSCRIPT | LOADING | STALE, CONNECTION, 0, 0, 0,
         "connection", "2.6.9", "Get the current connection name", "O(1)"),
    make(kClientHelp, "client|help", 2, LOADING | STALE, CONNECTION, 0, 0, 0, "connection", "5.0.0",
         "Show helpful text about the different subcommands", "O(1)"),
    make(kClientId, "client|id", 2, NOSCRIPT | LOADING | STALE, CONNECTION, 0, 0, 0, "connection",
         "5.0.0", "Returns the client ID for the current connection", "O(1)"),
    make(kClientInfo, "client|info", 2, NOSCRIPT | LOADING | STALE, CONNECTION, 0, 0, 0,
         "connection", "6.2.0", "Returns information about the current client connection.", "O(1)"),
    make(kClientSetname, "client|setname", 3, NOSCRIPT | LOADING | STALE, CONNECTION, 0, 0, 0,
         "connection", "2.6.9", "Set the current connection name", "O(1)"),
};

constexpr CommandInfo kCommandSubcommands[] = {
    make(kCommandCount, "command|count", 2, LOADING | STALE, CONNECTION, 0, 0, 0, "server",
         "2.8.13", "Get total number of Redis commands", "O(1)"),
    make(kCommandDocs, "command|docs", -2, LOADING | STALE, CONNECTION, 0, 0, 0, "server", "7.0.0",
         "Get array of specific Redis command documentation",
         "O(N) where N is the number of commands to look up"),
    make(kCommandHelp, "command|help", 2, LOADING | STALE, CONNECTION, 0, 0, 0, "server", "5.0.0",
         "Show helpful text about the different subcommands", "O(1)"),
    make(kCommandInfo, "command|info", -2, LOADING | STALE, CONNECTION, 0, 0, 0, "server", "2.8.13",
         "Get array of specific Redis command details, or all when no argument is given.",
         "O(N) where N is the number of commands to look up"),
    make(kCommandList, "command|list", -2, LOADING | STALE, CONNECTION, 0, 0, 0, "server", "7.0.0",
         "Get an array of Redis command names",
         "O(N) where N is the total number of Redis commands"),
};

constexpr CommandInfo kConfigSubcommands[] = {
    make(kConfigGet, "config|get", -3, ADMIN | NOSCRIPT | LOADING | STALE, 0, 0, 0, 0, "server",
         "2.0.0", "Get the values of configuration parameters",
         "O(N) when N is the number of configuration parameters provided"),
    make(kConfigHelp, "config|help", 2, LOADING | STALE, 0, 0, 0, 0, "server", "5.0.0",
         "Show helpful text about the different subcommands", "O(1)"),
    make(kConfigSet, "config|set", -4, ADMIN | NOSCRIPT | LOADING | STALE, 0, 0, 0, 0, "server",
         "2.0.0", "Set configuration parameters to the given values",
         "O(N) when N is the number of configuration parameters provided"),
};

constexpr std::string_view kO1 = "O(1)";
constexpr std::string_view kONKeys = "O(N) where N is the number of keys";

// Sorted by name; a static_assert below keeps it so.
constexpr CommandInfo kCommands[] = {
    make(kAppend, "append", 3, W | DENYOOM | FAST, STRING, 1, 1, 1, "string", "2.0.0",
         "Append a value to a key", "O(1)"),
    make(kBitcount, "bitcount", -2, R, BITMAP, 1, 1, 1, "bitmap", "2.6.0",
         "Count set bits in a string", "O(N)"),
    make(kBitfield, "bitfield", -2, W | DENYOOM, BITMAP, 1, 1, 1, "bitmap", "3.2.0",
         "Perform arbitrary bitfield integer operations on strings",
         "O(1) for each subcommand specified"),
    make(kBitfieldRo, "bitfield_ro", -2, R | FAST, BITMAP, 1, 1, 1, "bitmap", "6.0.0",
         "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD",
         "O(1) for each subcommand specified"),
    make(kBitop, "bitop", -4, W | DENYOOM, BITMAP, 2, -1, 1, "bitmap", "2.6.0",
         "Perform bitwise operations between strings", "O(N)"),
    make(kBitpos, "bitpos", -3, R, BITMAP, 1, 1, 1, "bitmap", "2.8.7",
         "Find first bit set or clear in a string", "O(N)"),
    make(kCas, "cas", 4, W | DENYOOM, STRING, 1, 1, 1, "string", "cairn 0.1.0",
         "Set the value of a key only if it holds exactly the expected value (cairn)",
         "O(N) where N is the length of the expected value"),
    make(kClient, "client", -2, 0, 0, 0, 0, 0, "connection", "2.4.0",
         "A container for client connection commands", "Depends on subcommand.",
         kClientSubcommands),
    make(kCommand, "command", -1, LOADING | STALE, CONNECTION, 0, 0, 0, "server", "2.8.13",
         "Get array of Redis command details", "O(N) where N is the total number of Redis commands",
         kCommandSubcommands),
    make(kConfig, "config", -2, 0, 0, 0, 0, 0, "server", "2.0.0",
         "A container for server configuration commands", "Depends on subcommand.",
         kConfigSubcommands),
    make(kCopy, "copy", -3, W | DENYOOM, KEYSPACE, 1, 2, 1, "generic", "6.2.0", "Copy a key",
         "O(N) worst case for collections, where N is the number of nested items. O(1) for string "
         "values."),
    make(kDbsize, "dbsize", 1, R | FAST, KEYSPACE, 0, 0, 0, "server", "1.0.0",
         "Return the number of keys in the selected database", kO1),
    make(kDecr, "decr", 2, W | DENYOOM | FAST, STRING, 1, 1, 1, "string", "1.0.0",
         "Decrement the integer value of a key by one", kO1),
    make(kDecrby, "decrby", 3, W | DENYOOM | FAST, STRING, 1, 1, 1, "string", "1.0.0",
         "Decrement the integer value of a key by the given number", kO1),
    make(kDel, "del", -2, W, KEYSPACE, 1, -1, 1, "generic", "1.0.0", "Delete a key", kONKeys),
    make(kEcho, "echo", 2, LOADING | STALE | FAST, CONNECTION, 0, 0, 0, "connection", "1.0.0",
         "Echo the given string", kO1),
    make(kExists, "exists", -2, R | FAST, KEYSPACE, 1, -1, 1, "generic", "1.0.0",
         "Determine if a key exists", kONKeys),
    make(kExpire, "expire", -3, W | FAST, KEYSPACE, 1, 1, 1, "generic", "1.0.0",
         "Set a key's time to live in seconds", kO1),
    make(kExpireat, "expireat", -3, W | FAST, KEYSPACE, 1, 1, 1, "generic", "1.2.0",
         "Set the expiration for a key as a UNIX timestamp", kO1),
    make(kExpiretime, "expiretime", 2, R | FAST, KEYSPACE, 1, 1, 1, "generic", "7.0.0",
         "Get the expiration Unix timestamp for a key", kO1),
    make(kFlushall, "flushall", -1, W, KEYSPACE | DANGEROUS, 0, 0, 0, "server", "1.0.0",
         "Remove all keys from all databases", "O(N) where N is the total number of keys"),
    make(kFlushdb, "flushdb", -1, W, KEYSPACE | DANGEROUS, 0, 0, 0, "server", "1.0.0",
         "Remove all keys from the current database", "O(N) where N is the number of keys"),
    make(kGet, "get", 2, R | FAST, STRING, 1, 1, 1, "string", "1.0.0", "Get the value of a key",
         kO1),
    make(kGetbit, "getbit", 3, R | FAST, BITMAP, 1, 1, 1, "bitmap", "2.2.0",
         "Returns the bit value at offset in the string value stored at key", kO1),
    make(kGetdel, "getdel", 2, W | FAST, STRING, 1, 1, 1, "string", "6.2.0",
         "Get the value of a key and delete the key", kO1),
    make(kGetex, "getex", -2, W | FAST, STRING, 1, 1, 1, "string", "6.2.0",
         "Get the value of a key and optionally set its expiration", kO1),
    make(kGetrange, "getrange", 4, R, STRING, 1, 1, 1, "string", "2.4.0",
         "Get a substring of the string stored at a key",
         "O(N) where N is the length of the returned string"),
    make(kGetset, "getset", 3, W | DENYOOM | FAST, STRING, 1, 1, 1, "string", "1.0.0",
         "Set the string value of a key and return its old value", kO1),
    make(kHello, "hello", -1, NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY, CONNECTION,
         0, 0, 0, "connection", "6.0.0", "Handshake with Redis", kO1),
    make(kIncr, "incr", 2, W | DENYOOM | FAST, STRING, 1, 1, 1, "string", "1.0.0",
         "Increment the integer value of a key by one", kO1),
    make(kIncrby, "incrby", 3, W | DENYOOM | FAST, STRING, 1, 1, 1, "string", "1.0.0",
         "Increment the integer value of a key by the given amount", kO1),
    make(kIncrbyfloat, "incrbyfloat", 3, W | DENYOOM | FAST, STRING, 1, 1, 1, "string", "2.6.0",
         "Increment the float value of a key by the given amount", kO1),
    make(kInfo, "info", -1, LOADING | STALE, DANGEROUS, 0, 0, 0, "server", "1.0.0",
         "Get information and statistics about the server", kO1),
    make(kKeys, "keys", 2, R, KEYSPACE | DANGEROUS, 0, 0, 0, "generic", "1.0.0",
         "Find all keys matching the given pattern",
         "O(N) with N being the number of keys in the database"),
    make(kLcs, "lcs", -3, R, STRING, 1, 2, 1, "string", "7.0.0", "Find longest common substring",
         "O(N*M) where N and M are the lengths of s1 and s2, respectively"),
    make(kMget, "mget", -2, R | FAST, STRING, 1, -1, 1, "string", "1.0.0",
         "Get the values of all the given keys", "O(N) where N is the number of keys to retrieve."),
    make(kMset, "mset", -3, W | DENYOOM, STRING, 1, -1, 2, "string", "1.0.1",
         "Set multiple keys to multiple values", "O(N) where N is the number of keys to set."),
    make(kMsetnx, "msetnx", -3, W | DENYOOM, STRING, 1, -1, 2, "string", "1.0.1",
         "Set multiple keys to multiple values, only if none of the keys exist",
         "O(N) where N is the number of keys to set."),
    make(kPersist, "persist", 2, W | FAST, KEYSPACE, 1, 1, 1, "generic", "2.2.0",
         "Remove the expiration from a key", kO1),
    make(kPexpire, "pexpire", -3, W | FAST, KEYSPACE, 1, 1, 1, "generic", "2.6.0",
         "Set a key's time to live in milliseconds", kO1),
    make(kPexpireat, "pexpireat", -3, W | FAST, KEYSPACE, 1, 1, 1, "generic", "2.6.0",
         "Set the expiration for a key as a UNIX timestamp specified in milliseconds", kO1),
    make(kPexpiretime, "pexpiretime", 2, R | FAST, KEYSPACE, 1, 1, 1, "generic", "7.0.0",
         "Get the expiration Unix timestamp for a key in milliseconds", kO1),
    make(kPing, "ping", -1, FAST, CONNECTION, 0, 0, 0, "connection", "1.0.0", "Ping the server",
         kO1),
    make(kPsetex, "psetex", 4, W | DENYOOM, STRING, 1, 1, 1, "string", "2.6.0",
         "Set the value and expiration in milliseconds of a key", kO1),
    make(kPttl, "pttl", 2, R | FAST, KEYSPACE, 1, 1, 1, "generic", "2.6.0",
         "Get the time to live for a key in milliseconds", kO1),
    make(kQuit, "quit", -1, ALLOW_BUSY | NOSCRIPT | LOADING | STALE | FAST | NO_AUTH, CONNECTION, 0,
         0, 0, "connection", "1.0.0", "Close the connection", kO1),
    make(kRandomkey, "randomkey", 1, R, KEYSPACE, 0, 0, 0, "generic", "1.0.0",
         "Return a random key from the keyspace", kO1),
    make(kReadonly, "readonly", 1, LOADING | STALE | FAST, CONNECTION, 0, 0, 0, "cluster", "3.0.0",
         "Enables read queries for a connection to a cluster replica node", kO1),
    make(kReadwrite, "readwrite", 1, LOADING | STALE | FAST, CONNECTION, 0, 0, 0, "cluster",
         "3.0.0", "Disables read queries for a connection to a cluster replica node", kO1),
    make(kRename, "rename", 3, W, KEYSPACE, 1, 2, 1, "generic", "1.0.0", "Rename a key", kO1),
    make(kRenamenx, "renamenx", 3, W | FAST, KEYSPACE, 1, 2, 1, "generic", "1.0.0",
         "Rename a key, only if the new key does not exist", kO1),
    make(kReset, "reset", 1, NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY, CONNECTION,
         0, 0, 0, "connection", "6.2.0", "Reset the connection", kO1),
    make(kScan, "scan", -2, R, KEYSPACE, 0, 0, 0, "generic", "2.8.0",
         "Incrementally iterate the keys space",
         "O(1) for every call. O(N) for a complete iteration"),
    make(kSelect, "select", 2, LOADING | STALE | FAST, CONNECTION, 0, 0, 0, "connection", "1.0.0",
         "Change the selected database for the current connection", kO1),
    make(kSet, "set", -3, W | DENYOOM, STRING, 1, 1, 1, "string", "1.0.0",
         "Set the string value of a key", kO1),
    make(kSetbit, "setbit", 4, W | DENYOOM, BITMAP, 1, 1, 1, "bitmap", "2.2.0",
         "Sets or clears the bit at offset in the string value stored at key", kO1),
    make(kSetex, "setex", 4, W | DENYOOM, STRING, 1, 1, 1, "string", "2.0.0",
         "Set the value and expiration of a key", kO1),
    make(kSetnx, "setnx", 3, W | DENYOOM | FAST, STRING, 1, 1, 1, "string", "1.0.0",
         "Set the value of a key, only if the key does not exist", kO1),
    make(kSetrange, "setrange", 4, W | DENYOOM, STRING, 1, 1, 1, "string", "2.2.0",
         "Overwrite part of a string at key starting at the specified offset", kO1),
    make(kStrlen, "strlen", 2, R | FAST, STRING, 1, 1, 1, "string", "2.2.0",
         "Get the length of the value stored in a key", kO1),
    make(kTime, "time", 1, LOADING | STALE | FAST, 0, 0, 0, 0, "server", "2.6.0",
         "Return the current server time", kO1),
    make(kTouch, "touch", -2, R | FAST, KEYSPACE, 1, -1, 1, "generic", "3.2.1",
         "Alters the last access time of a key(s). Returns the number of existing keys specified.",
         "O(N) where N is the number of keys that will be touched."),
    make(kTtl, "ttl", 2, R | FAST, KEYSPACE, 1, 1, 1, "generic", "1.0.0",
         "Get the time to live for a key in seconds", kO1),
    make(kType, "type", 2, R | FAST, KEYSPACE, 1, 1, 1, "generic", "1.0.0",
         "Determine the type stored at key", kO1),
    make(kUnlink, "unlink", -2, W | FAST, KEYSPACE, 1, -1, 1, "generic", "4.0.0",
         "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non "
         "blocking.",
         kONKeys),
    make(kWait, "wait", 3, NOSCRIPT, CONNECTION, 0, 0, 0, "generic", "3.0.0",
         "Wait for the synchronous replication of all the write commands sent in the context of "
         "the current connection",
         kO1),
};

constexpr std::string_view kFlagNames[] = {"write",    "readonly",  "denyoom", "admin",
                                           "noscript", "loading",   "stale",   "fast",
                                           "no_auth",  "allow_busy"};
constexpr std::string_view kAclNames[] = {"@keyspace",  "@read",      "@write", "@string",
                                          "@bitmap",    "@admin",     "@fast",  "@slow",
                                          "@dangerous", "@connection"};

// Names are lowercase letters and '_' (BITFIELD_RO); lookups fold the typed name's ASCII letters.
constexpr bool lowercase_letters(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
}

consteval bool table_is_well_formed() {
  for (size_t i = 0; i < std::size(kCommands); ++i) {
    const CommandInfo& c = kCommands[i];
    if (!lowercase_letters(c.name) || c.arity == 0) return false;
    if (i > 0 && !(kCommands[i - 1].name < c.name)) return false;
    for (const CommandInfo& s : c.subcommands) {
      if (!lowercase_letters(s.name) || s.arity == 0) return false;
    }
  }
  return true;
}
static_assert(table_is_well_formed(), "names must be lowercase letters, sorted, arity non-zero");

constexpr uint8_t fold(char c) {
  const auto b = static_cast<uint8_t>(c);
  return b >= 'A' && b <= 'Z' ? static_cast<uint8_t>(b | 0x20u) : b;
}

// FNV-1a over the case-folded bytes.
constexpr uint32_t fold_hash(std::string_view s) {
  uint32_t h = 2166136261u;
  for (char c : s)
    h = (h ^ fold(c)) * 16777619u;
  return h;
}

// An open-addressing index (linear probing) over the top-level names, built at compile time.
constexpr size_t kIndexSize = 256;
constexpr uint8_t kEmpty = 0xff;
static_assert(std::size(kCommands) < kIndexSize / 2 && std::size(kCommands) < kEmpty);

consteval std::array<uint8_t, kIndexSize> build_index() {
  std::array<uint8_t, kIndexSize> index{};
  index.fill(kEmpty);
  for (size_t i = 0; i < std::size(kCommands); ++i) {
    size_t slot = fold_hash(kCommands[i].name) & (kIndexSize - 1);
    while (index[slot] != kEmpty)
      slot = (slot + 1) & (kIndexSize - 1);
    index[slot] = static_cast<uint8_t>(i);
  }
  return index;
}
constexpr std::array<uint8_t, kIndexSize> kIndex = build_index();

// `lower` holds no uppercase letter (checked above), so folding only `typed` is exact.
bool equals_folded(std::string_view typed, std::string_view lower) {
  if (typed.size() != lower.size()) return false;
  for (size_t i = 0; i < typed.size(); ++i) {
    if (fold(typed[i]) != static_cast<uint8_t>(lower[i])) return false;
  }
  return true;
}

// printf's "%.*s" on a C string: at most `max` bytes, and nothing from a NUL on.
std::string_view c_string_prefix(std::string_view s, size_t max) {
  s = s.substr(0, std::min(s.find('\0'), max));
  return s;
}

// Redis sanitises these errors because they echo user input: CR and LF become spaces.
void map_crlf(std::string& s) {
  std::replace(s.begin(), s.end(), '\r', ' ');
  std::replace(s.begin(), s.end(), '\n', ' ');
}

}  // namespace

std::span<const CommandInfo> all_commands() {
  return kCommands;
}
std::span<const std::string_view> flag_names() {
  return kFlagNames;
}
std::span<const std::string_view> acl_category_names() {
  return kAclNames;
}

const CommandInfo* find_command(std::string_view name) {
  size_t slot = fold_hash(name) & (kIndexSize - 1);
  for (; kIndex[slot] != kEmpty; slot = (slot + 1) & (kIndexSize - 1)) {
    const CommandInfo& c = kCommands[kIndex[slot]];
    if (equals_folded(name, c.name)) return &c;
  }
  return nullptr;
}

const CommandInfo* find_subcommand(const CommandInfo& container, std::string_view name) {
  for (const CommandInfo& s : container.subcommands) {
    if (equals_folded(name, s.name)) return &s;
  }
  return nullptr;
}

bool check_arity(const CommandInfo& cmd, size_t argc) {
  if (cmd.arity > 0) return argc == static_cast<size_t>(cmd.arity);
  return argc >= static_cast<size_t>(-cmd.arity);
}

// commandCheckArity in Redis 7.0 prints c->cmd->fullname: the canonical lowercase name (with
// "container|sub" for subcommands), not the word as the client typed it.
std::string arity_error(const CommandInfo& cmd) {
  std::string e = "ERR wrong number of arguments for '";
  e += cmd.fullname;
  e += "' command";
  return e;
}

// commandCheckExistence in Redis 7.0:
//   for (i=1; i < c->argc && sdslen(args) < 128; i++)
//       args = sdscatprintf(args, "'%.*s' ", 128-(int)sdslen(args), (char*)c->argv[i]->ptr);
//   "unknown command '%.128s', with args beginning with: %s"
std::string unknown_command_error(std::span<const std::string_view> argv) {
  constexpr size_t kMax = 128;
  std::string args;
  for (size_t i = 1; i < argv.size() && args.size() < kMax; ++i) {
    args += '\'';
    args += c_string_prefix(argv[i], kMax - args.size() + 1);
    args += "' ";
  }
  std::string e = "ERR unknown command '";
  if (!argv.empty()) e += c_string_prefix(argv[0], kMax);
  e += "', with args beginning with: ";
  e += args;
  map_crlf(e);
  return e;
}

// "unknown subcommand '%.128s'. Try %s HELP." with the container name upper-cased as typed.
std::string unknown_subcommand_error(std::string_view container, std::string_view sub) {
  std::string e = "ERR unknown subcommand '";
  e += c_string_prefix(sub, 128);
  e += "'. Try ";
  for (char c : c_string_prefix(container, std::string_view::npos)) {
    e += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  }
  e += " HELP.";
  map_crlf(e);
  return e;
}

const CommandInfo* resolve(std::span<const std::string_view> argv, std::string& error) {
  const CommandInfo* cmd = find_command(argv[0]);
  if (cmd == nullptr) {
    error = unknown_command_error(argv);
    return nullptr;
  }
  // lookupCommandLogic: a container given alone is the container itself (so `CLIENT` is an
  // arity error and `COMMAND` runs); with more words, the second one names the subcommand.
  if (argv.size() > 1 && cmd->is_container()) {
    const CommandInfo* sub = find_subcommand(*cmd, argv[1]);
    if (sub == nullptr) {
      error = unknown_subcommand_error(argv[0], argv[1]);
      return nullptr;
    }
    cmd = sub;
  }
  if (!check_arity(*cmd, argv.size())) {
    error = arity_error(*cmd);
    return nullptr;
  }
  return cmd;
}

}  // namespace cairn::server::resp
