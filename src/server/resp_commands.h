// What each Redis command becomes in cairn: a write for the Raft log (one or more cache::Commands
// and how to word the engine's answer), a read served from the local engine (after a read
// barrier, or at once on a READONLY connection), or a command about the connection or the server
// that the session answers itself. Argument errors are found here, worded as redis-server 7.0
// words them (t_string.c, expire.c, db.c).
//
// Threading: pure functions over their arguments; serve_read() reads the engine, which is safe
// from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cache/command.h"
#include "cache/engine.h"
#include "common/result.h"
#include "server/resp/command_table.h"
#include "server/resp/reply.h"

namespace cairn::server {

using Argv = std::span<const std::string_view>;

// How the session treats a command.
enum class Route : uint8_t {
  kWrite,    // through node.execute(), answered when applied
  kRead,     // from the engine, after a read barrier unless the connection is READONLY
  kSession,  // answered by the session at once (PING, HELLO, CLIENT, COMMAND, ...)
  kStatus,   // needs the node's status (INFO, WAIT): answered when node.status() calls back
};
Route route_of(resp::CommandId id);

// How a write's engine reply becomes the client's answer.
enum class WriteShape : uint8_t {
  kAsIs,  // Ok -> +OK, Nil -> null, int -> integer, bytes -> bulk, error -> error
  kBool,  // SETNX: Ok -> :1, Nil -> :0
};

// A Redis write is one cache command, already encoded for the log (cache::encode_entry bytes,
// time 0: the leader stamps its own), so the session hands it over without another copy. MSET
// and MSETNX are one PutMany: atomic, as in Redis.
struct WritePlan {
  std::string command;
  WriteShape shape = WriteShape::kAsIs;
};

// A write's outcome as the session answers it.
struct PlanResult {
  std::optional<std::string> cluster_error;  // the cluster could not carry it out (Outcome::error)
  cache::Reply reply;                        // else the engine's answer
};

// The write for argv (a resolved write command), or the error text to answer. `max_value_bytes`
// is the engine's value size limit (proto-max-bulk-len), which bounds SETBIT's offset.
Result<WritePlan, std::string> plan_write(
    resp::CommandId id, Argv argv, uint64_t max_value_bytes = cache::Config{}.max_value_bytes);

// Writes one engine reply as the client's answer for a single-command write.
void write_engine_reply(const cache::Reply& reply, WriteShape shape, resp::ReplyWriter& w);

// Answers a read command (route kRead) from the engine into w; all but KEYS, which the session
// walks in steps (RespSession::start_keys).
void serve_read(resp::CommandId id, Argv argv, const cache::Engine& engine, resp::ReplyWriter& w);

// The error line for a request the cluster could not carry out (Outcome::error): "TRYAGAIN ..."
// when it was certainly not executed (retrying is safe), "ERR ..." when its outcome is unknown.
std::string cluster_error(std::string_view why);

// Redis's rule for client names: printable ASCII without spaces ('!' to '~').
bool valid_client_name(std::string_view name);

// Parses an integer as Redis's getLongLongFromObject does.
bool parse_int(std::string_view s, int64_t& out);

inline constexpr std::string_view kErrSyntax = "ERR syntax error";
inline constexpr std::string_view kErrNotInteger = "ERR value is not an integer or out of range";

}  // namespace cairn::server
