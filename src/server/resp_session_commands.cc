// RespSession: one request. Resolve it against the command table (unknown command and arity
// errors), then route it: writes and reads to the ordering machinery, connection and server
// commands answered here.
#include "server/ascii.h"
#include "server/resp_session.h"

#include <asio/post.hpp>
#include <chrono>

#include "server/resp/command_info.h"
#include "server/resp_info.h"
#include "server/resp_limits.h"

namespace cairn::server {
namespace {

using resp::CommandId;

void help(resp::ReplyWriter& w, std::initializer_list<std::string_view> lines) {
  w.array(lines.size());
  for (auto l : lines)
    w.simple(l);
}

}  // namespace

void RespSession::handle_request(Argv argv) {
  ctx_->counters.commands.fetch_add(1, std::memory_order_relaxed);
  last_command_ = std::chrono::steady_clock::now();
  std::string error;
  const resp::CommandInfo* cmd = resp::resolve(argv, error);
  if (cmd == nullptr) return resp::ReplyWriter(immediate_target(), proto_).error(error);
  last_command_name_ = cmd->fullname;
  switch (route_of(cmd->id)) {
    case Route::kWrite: {
      auto plan = plan_write(cmd->id, argv, ctx_->node.engine().config().max_value_bytes);
      if (!plan.ok()) return resp::ReplyWriter(immediate_target(), proto_).error(plan.error());
      return submit(WriteOp{std::move(*plan), reserve_slot(), proto_});
    }
    case Route::kRead:
      // A read with nothing ahead of it is answered now, without copying its arguments, when it
      // may be local (READONLY) or the node can vouch that local state is linearizable.
      if (can_serve_read_now()) {
        if (cmd->id == CommandId::kKeys) return start_keys(reserve_slot(), proto_, argv[1]);
        resp::ReplyWriter w(immediate_target(), proto_);
        return serve_read(cmd->id, argv, ctx_->node.engine(), w);
      }
      return submit(ReadOp{cmd->id, StoredArgs(argv), reserve_slot(), proto_, readonly_});
    case Route::kStatus:
      return run_status_command(*cmd, argv);
    case Route::kSession: {
      resp::ReplyWriter w(immediate_target(), proto_);
      return run_session_command(*cmd, argv, w);
    }
  }
}

void RespSession::run_session_command(const resp::CommandInfo& cmd, Argv argv,
                                      resp::ReplyWriter& w) {
  switch (cmd.id) {
    case CommandId::kPing:
      if (argv.size() > 2) return w.error(resp::arity_error(cmd));
      return argv.size() == 1 ? w.simple("PONG") : w.bulk(argv[1]);
    case CommandId::kEcho:
      return w.bulk(argv[1]);
    case CommandId::kSelect: {
      int64_t db = 0;
      if (!parse_int(argv[1], db) || db < INT32_MIN || db > INT32_MAX)
        return w.error(kErrNotInteger);
      // One keyspace: the replicated one. Other indexes are out of range, as past `databases`.
      return db == 0 ? w.ok() : w.error("ERR DB index is out of range");
    }
    case CommandId::kQuit:
      closing_ = true;
      return w.ok();
    case CommandId::kReset:
      proto_ = resp::Protocol::kResp2;
      w.set_protocol(proto_);
      name_.clear();
      readonly_ = false;
      return w.simple("RESET");
    case CommandId::kHello:
      return hello(argv, w);
    case CommandId::kReadonly:
      readonly_ = true;
      return w.ok();
    case CommandId::kReadwrite:
      readonly_ = false;
      return w.ok();
    case CommandId::kTime: {
      const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
      w.array(2);
      w.bulk(std::to_string(us / 1'000'000));
      return w.bulk(std::to_string(us % 1'000'000));
    }
    case CommandId::kClientSetname:
      if (!valid_client_name(argv[2]))
        return w.error("ERR Client names cannot contain spaces, newlines or special characters.");
      name_ = argv[2];
      return w.ok();
    case CommandId::kClientGetname:
      return name_.empty() ? w.null() : w.bulk(name_);
    case CommandId::kClientId:
      return w.integer(static_cast<int64_t>(id_));
    case CommandId::kClientInfo:
      return client_info(w);
    case CommandId::kClientHelp:
      return help(w, {"CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", "GETNAME",
                      "    Return the name of the current connection.", "ID",
                      "    Return the ID of the current connection.", "INFO",
                      "    Return information about the current client connection.",
                      "SETNAME <name>", "    Assign the name <name> to the current connection.",
                      "HELP", "    Print this help."});
    case CommandId::kCommand:
    case CommandId::kCommandCount:
    case CommandId::kCommandInfo:
    case CommandId::kCommandDocs:
    case CommandId::kCommandList:
    case CommandId::kCommandHelp:
      return resp::reply_command(argv, w);
    case CommandId::kConfigGet:
      return config_get(argv, w);
    case CommandId::kConfigSet: {
      std::vector<std::string> fixed;
      for (auto& p : config_params(*ctx_))
        fixed.push_back(std::move(p.first));
      const std::string err = config_set(argv, ctx_->limits, fixed);
      return err.empty() ? w.ok() : w.error(err);
    }
    case CommandId::kConfigHelp:
      return help(
          w, {"CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", "GET <pattern>",
              "    Return parameters matching the glob-like <pattern> and their values.",
              "SET <directive> <value>", "    Set the configuration <directive> to <value>.",
              "HELP", "    Print this help."});
    default:
      return w.error("ERR unknown command '" + std::string(cmd.fullname) + "'");
  }
}

// HELLO [protover [AUTH username password] [SETNAME clientname]], as Redis 7.0's helloCommand.
// There are no passwords: AUTH succeeds for the user "default", as on a Redis without one.
void RespSession::hello(Argv argv, resp::ReplyWriter& w) {
  int64_t ver = 0;
  size_t next = 1;
  if (argv.size() >= 2) {
    if (!parse_int(argv[next++], ver))
      return w.error("ERR Protocol version is not an integer or out of range");
    if (ver < 2 || ver > 3) return w.error("NOPROTO unsupported protocol version");
  }
  std::string_view user, newname;
  bool setname = false;
  for (size_t j = next; j < argv.size(); ++j) {
    const size_t more = argv.size() - 1 - j;
    if (iequals(argv[j], "auth") && more >= 2) {
      user = argv[j + 1];
      j += 2;
    } else if (iequals(argv[j], "setname") && more >= 1) {
      newname = argv[++j];
      setname = true;
    } else {
      return w.error("ERR Syntax error in HELLO option '" + std::string(argv[j]) + "'");
    }
  }
  if (!user.empty() && user != "default")
    return w.error("WRONGPASS invalid username-password pair or user is disabled.");
  if (setname) {
    if (!valid_client_name(newname))
      return w.error("ERR Client names cannot contain spaces, newlines or special characters.");
    name_ = newname;
  }
  if (ver != 0) {
    proto_ = static_cast<resp::Protocol>(ver);
    w.set_protocol(proto_);
  }
  const bool leader = ctx_->node.leader_id() == ctx_->node.id();
  // "redis" and Redis's version: clients gate features on them, and cairn speaks 7.0's protocol.
  w.map(7);
  w.bulk("server");
  w.bulk("redis");
  w.bulk("version");
  w.bulk(kRedisVersion);
  w.bulk("proto");
  w.integer(static_cast<int64_t>(proto_));
  w.bulk("id");
  w.integer(static_cast<int64_t>(id_));
  w.bulk("mode");
  w.bulk("standalone");
  w.bulk("role");
  w.bulk(leader ? "master" : "replica");
  w.bulk("modules");
  w.array(0);
}

void RespSession::client_info(resp::ReplyWriter& w) const {
  const auto now = std::chrono::steady_clock::now();
  const auto age = std::chrono::duration_cast<std::chrono::seconds>(now - created_).count();
  const auto idle = std::chrono::duration_cast<std::chrono::seconds>(now - last_command_).count();
  std::string line =
      "id=" + std::to_string(id_) + " addr=" + peer_ + " laddr=" + local_ + " fd=-1 name=" + name_ +
      " age=" + std::to_string(age) + " idle=" + std::to_string(idle) +
      " flags=" + (readonly_ ? "r" : "N") +
      " db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=" + std::to_string(in_end_ - in_begin_) +
      " qbuf-free=0 argv-mem=0 multi-mem=0" + " rbs=" + std::to_string(in_.capacity()) +
      " rbp=0 obl=0 oll=" + std::to_string(slots_.size()) + " omem=" + std::to_string(out_.size()) +
      " tot-mem=0 events=r cmd=" + last_command_name_ +
      " user=default redir=-1 resp=" + std::to_string(static_cast<int>(proto_)) + "\n";
  w.verbatim(line);
}

void RespSession::config_get(Argv argv, resp::ReplyWriter& w) const {
  auto params = config_params(*ctx_);
  std::vector<const std::pair<std::string, std::string>*> hits;
  for (const auto& p : params) {
    for (size_t i = 2; i < argv.size(); ++i) {
      if (glob_match_nocase(argv[i], p.first)) {
        hits.push_back(&p);
        break;
      }
    }
  }
  w.map(hits.size());
  for (const auto* p : hits) {
    w.bulk(p->first);
    w.bulk(p->second);
  }
}

// INFO [section ...] and WAIT numreplicas timeout: both need the node's Raft status, which only
// the node thread may read, so they are answered when node.status() calls back.
void RespSession::run_status_command(const resp::CommandInfo& cmd, Argv argv) {
  std::vector<std::string> sections;
  if (cmd.id == CommandId::kWait) {
    int64_t replicas = 0, timeout = 0;
    std::string_view err;
    if (!parse_int(argv[1], replicas))
      err = kErrNotInteger;
    else if (!parse_int(argv[2], timeout))
      err = "ERR timeout is not an integer or out of range";
    else if (timeout < 0)
      err = "ERR timeout is negative";
    if (!err.empty()) return resp::ReplyWriter(immediate_target(), proto_).error(err);
  } else {
    for (size_t i = 1; i < argv.size(); ++i)
      sections.emplace_back(argv[i]);
  }
  const uint64_t slot = reserve_slot();
  ++status_in_flight_;
  const bool wait = cmd.id == CommandId::kWait;
  ctx_->node.status([self = shared_from_this(), slot, proto = proto_, wait,
                     sections = std::move(sections)](net::StatusResponse s) mutable {
    asio::post(self->socket_.get_executor(),
               [self, slot, proto, wait, sections = std::move(sections), s = std::move(s)] {
                 --self->status_in_flight_;
                 if (self->closed_) return;
                 self->complete(slot, proto, [&](resp::ReplyWriter& w) {
                   if (wait) return w.integer(replicas_holding_acknowledged_writes(s));
                   w.verbatim(build_info(*self->ctx_, s, sections));
                 });
                 self->flush();
               });
  });
}

}  // namespace cairn::server
