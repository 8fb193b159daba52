// The replies of the COMMAND command family (COMMAND, COMMAND COUNT / INFO / DOCS / LIST / HELP),
// built from the command table alone, in the layout redis-server 7.0 uses. They need no node or
// cache state, so they are complete here; redis-cli sends COMMAND DOCS when it starts.
//
// What we leave out, compared with Redis: key specs and tips (empty sets; first/last/step carry
// the key positions), and the "arguments" and "history" of COMMAND DOCS.
//
// Threading: pure functions over constant data.
#pragma once

#include <span>
#include <string_view>

#include "server/resp/command_table.h"
#include "server/resp/reply.h"

namespace cairn::server::resp {

// A command by the name COMMAND INFO / DOCS take: "get", or "client|setname" for a subcommand
// (Redis's lookupCommandBySds). Case-insensitive; nullptr if there is none.
const CommandInfo* find_by_fullname(std::string_view fullname);

// One COMMAND INFO entry: [name, arity, flags, first key, last key, step, ACL categories, tips,
// key specs, subcommands]; a null reply for nullptr (an unknown name).
void write_command_info(ReplyWriter& w, const CommandInfo* cmd);

// One COMMAND DOCS value: a map of summary, since, group, complexity and, for a container,
// subcommands (a map of their docs by full name).
void write_command_docs(ReplyWriter& w, const CommandInfo& cmd);

// Answers a whole COMMAND request; argv[0] is "COMMAND" and resolve() has already checked the
// subcommand and its arity.
void reply_command(std::span<const std::string_view> argv, ReplyWriter& w);

}  // namespace cairn::server::resp
