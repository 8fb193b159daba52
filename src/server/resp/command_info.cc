// COMMAND replies (see command_info.h), laid out as redis-server 7.0's addReplyCommandInfo,
// addReplyCommandDocs and commandHelpCommand write them. Redis walks hash tables, so its order of
// commands is arbitrary; ours is the table's (sorted), which clients do not depend on.
// Threading: pure functions over the constant table.
#include "server/resp/command_info.h"

#include <bit>

namespace cairn::server::resp {

namespace {

// `lower` is a lowercase literal, so folding only `typed` (ASCII letters alone) is exact.
bool equals_ignoring_case(std::string_view typed, std::string_view lower) {
  if (typed.size() != lower.size()) return false;
  for (size_t i = 0; i < typed.size(); ++i) {
    const char c =
        typed[i] >= 'A' && typed[i] <= 'Z' ? static_cast<char>(typed[i] | 0x20) : typed[i];
    if (c != lower[i]) return false;
  }
  return true;
}

// A set of status replies, one per bit of `bits` that has a name.
void write_names(ReplyWriter& w, uint32_t bits, std::span<const std::string_view> names) {
  w.set(static_cast<size_t>(std::popcount(bits)));
  for (size_t i = 0; i < names.size(); ++i) {
    if ((bits & (1u << i)) != 0) w.simple(names[i]);
  }
}

void write_field(ReplyWriter& w, std::string_view key, std::string_view value) {
  w.bulk(key);
  w.bulk(value);
}

constexpr std::string_view kHelp[] = {
    "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "HELP",
    "    Prints this help.",
};

}  // namespace

const CommandInfo* find_by_fullname(std::string_view fullname) {
  const size_t bar = fullname.find('|');
  if (bar == std::string_view::npos) return find_command(fullname);
  const CommandInfo* container = find_command(fullname.substr(0, bar));
  if (container == nullptr) return nullptr;
  return find_subcommand(*container, fullname.substr(bar + 1));
}

void write_command_info(ReplyWriter& w, const CommandInfo* cmd) {
  if (cmd == nullptr) {
    w.null();
    return;
  }
  w.array(10);
  w.bulk(cmd->fullname);
  w.integer(cmd->arity);
  write_names(w, cmd->flags, flag_names());
  w.integer(cmd->first_key);
  w.integer(cmd->last_key);
  w.integer(cmd->key_step);
  write_names(w, cmd->acl, acl_category_names());
  w.set(0);  // tips
  w.set(0);  // key specs
  if (cmd->is_container()) {
    w.array(cmd->subcommands.size());
    for (const CommandInfo& sub : cmd->subcommands)
      write_command_info(w, &sub);
  } else {
    w.set(0);
  }
}

void write_command_docs(ReplyWriter& w, const CommandInfo& cmd) {
  w.map(cmd.is_container() ? 5 : 4);
  write_field(w, "summary", cmd.summary);
  write_field(w, "since", cmd.since);
  write_field(w, "group", cmd.group);
  write_field(w, "complexity", cmd.complexity);
  if (cmd.is_container()) {
    w.bulk("subcommands");
    w.map(cmd.subcommands.size());
    for (const CommandInfo& sub : cmd.subcommands) {
      w.bulk(sub.fullname);
      write_command_docs(w, sub);
    }
  }
}

void reply_command(std::span<const std::string_view> argv, ReplyWriter& w) {
  const std::string_view sub = argv.size() > 1 ? argv[1] : std::string_view();
  const std::span<const std::string_view> names =
      argv.size() > 2 ? argv.subspan(2) : argv.subspan(argv.size());
  const std::span<const CommandInfo> all = all_commands();
  if (argv.size() == 1 || (equals_ignoring_case(sub, "info") && names.empty())) {
    w.array(all.size());
    for (const CommandInfo& c : all)
      write_command_info(w, &c);
  } else if (equals_ignoring_case(sub, "info")) {
    w.array(names.size());
    for (std::string_view name : names)
      write_command_info(w, find_by_fullname(name));
  } else if (equals_ignoring_case(sub, "count")) {
    w.integer(static_cast<int64_t>(all.size()));
  } else if (equals_ignoring_case(sub, "docs")) {
    if (names.empty()) {
      w.map(all.size());
      for (const CommandInfo& c : all) {
        w.bulk(c.fullname);
        write_command_docs(w, c);
      }
      return;
    }
    // Unknown names are left out, so the map is sized by what is found.
    size_t found = 0;
    for (std::string_view name : names)
      if (find_by_fullname(name) != nullptr) ++found;
    w.map(found);
    for (std::string_view name : names) {
      if (const CommandInfo* c = find_by_fullname(name)) {
        w.bulk(c->fullname);
        write_command_docs(w, *c);
      }
    }
  } else if (equals_ignoring_case(sub, "list")) {
    // FILTERBY (MODULE, ACLCAT, PATTERN) is not supported.
    if (!names.empty()) {
      w.error("ERR syntax error");
      return;
    }
    size_t n = 0;
    for (const CommandInfo& c : all)
      n += 1 + c.subcommands.size();
    w.array(n);
    for (const CommandInfo& c : all) {
      w.bulk(c.fullname);
      for (const CommandInfo& s : c.subcommands)
        w.bulk(s.fullname);
    }
  } else {
    w.array(std::size(kHelp));
    for (std::string_view line : kHelp)
      w.simple(line);
  }
}

}  // namespace cairn::server::resp
