#include "net/codec.h"

#include <fmt/format.h>

#include "common/overloaded.h"
#include "net/bincode.h"

namespace cairn::net {
namespace {

template <typename W>
void encode_command(const CacheCommand& cmd, W& w) {
  w.u32(static_cast<uint32_t>(cmd.index()));
  std::visit(Overloaded{[&](const PutCommand& c) {
                          w.bytes(c.key);
                          w.bytes(c.value);
                          w.opt_u64(c.ttl_ms);
                        },
                        [&](const ClearCommand&) {}, [&](const OpenSessionCommand&) {},
                        [&](const IncrCommand& c) {
                          w.bytes(c.key);
                          w.i64(c.delta);
                        },
                        [&](const CompareAndSetCommand& c) {
                          w.bytes(c.key);
                          w.bytes(c.expected);
                          w.bytes(c.value);
                          w.opt_u64(c.ttl_ms);
                        },
                        [&](const ExpireCommand& c) {
                          w.bytes(c.key);
                          w.u64(c.ttl_ms);
                        },
                        [&](const AppendCommand& c) {
                          w.bytes(c.key);
                          w.bytes(c.value);
                        },
                        // Every other command is a key alone.
                        [&](const auto& c) { w.bytes(c.key); }},
             cmd);
}

template <typename W>
void encode_admin(const AdminCommand& cmd, W& w) {
  w.u32(static_cast<uint32_t>(cmd.index()));
  std::visit(Overloaded{[&](const AddNodeCommand& c) {
                          w.u64(c.id);
                          w.str(c.addr);
                        },
                        [&](const auto& c) { w.u64(c.id); }},
             cmd);
}

template <typename W>
void encode_response(const ClientResponse& m, W& w) {
  w.u64(m.request_id);
  w.boolean(m.success);
  w.opt_bytes(m.error);
  w.opt_u64(m.leader_hint);
  w.opt_bytes(m.value);
}

// A MessagePart's fields (after its tag): shared by the Encoder and encode_part_into.
template <typename W>
void part_fields(W& w, uint64_t total, std::string_view data) {
  w.u64(total);
  w.bytes(data);
}

template <typename W>
struct Encoder {
  W& w;
  void operator()(const RaftMessageWrapper& m) { w.bytes(m.data); }
  void operator()(const ClientRequest& m) {
    w.u64(m.request_id);
    encode_command(m.command, w);
  }
  void operator()(const ClientResponse& m) { encode_response(m, w); }
  void operator()(const PingRequest& m) {
    w.u64(m.node_id);
    w.str(m.raft_addr);
  }
  void operator()(const PongResponse& m) {
    w.u64(m.node_id);
    w.str(m.raft_addr);
    w.opt_u64(m.leader_id);
  }
  void operator()(const ForwardRequest& m) {
    w.u64(m.origin);
    w.u32(m.hops);
    w.u64(m.request_id);
    w.u32(static_cast<uint32_t>(m.command.index()));
    std::visit(Overloaded{[&](const EngineCommand& c) { w.bytes(c.command); },
                          [&](const AdminCommand& c) { encode_admin(c, w); }},
               m.command);
  }
  void operator()(const ForwardReply& m) { encode_response(m.response, w); }
  void operator()(const StatusRequest& m) { w.u64(m.request_id); }
  void operator()(const StatusResponse& m) {
    w.u64(m.request_id);
    w.u64(m.node_id);
    w.str(m.role);
    w.u64(m.term);
    w.u64(m.leader_id);
    w.u64(m.commit_index);
    w.u64(m.applied_index);
    w.u64(m.last_index);
    w.u64(m.members.size());
    for (const auto& mem : m.members) {
      w.u64(mem.id);
      w.str(mem.addr);
      w.boolean(mem.voter);
    }
    w.u64(m.keys);
    w.u64(m.used_memory);
  }
  void operator()(const AdminRequest& m) {
    w.u64(m.request_id);
    encode_admin(m.command, w);
  }
  void operator()(const SnapshotChunk& m) {
    w.u64(m.from);
    w.u64(m.transfer_id);
    w.u64(m.offset);
    w.u64(m.total);
    w.u64(m.checksum);
    w.bytes(m.header);
    w.bytes(m.data);
  }
  void operator()(const PeerHello& m) {
    w.u64(m.cluster_id);
    w.u64(m.node_id);
    w.str(m.addr);
  }
  void operator()(const MessagePart& m) { part_fields(w, m.total, m.data); }
  void operator()(const SessionRequest& m) {
    w.u64(m.request_id);
    w.u64(m.session);
    w.u64(m.seq);
    w.u64(m.acked);
    encode_command(m.command, w);
  }
  void operator()(const SnapshotAck& m) {
    w.u64(m.from);
    w.u64(m.transfer_id);
    w.u64(m.received);
    w.u32(static_cast<uint32_t>(m.status));
    w.opt_bytes(m.error);
  }
};

template <typename Variant>
bool unknown_tag(bincode::Reader& r, const char* what, uint32_t tag) {
  return r.fail(fmt::format("unknown {} variant tag {} (known: 0..{})", what, tag,
                            std::variant_size_v<Variant> - 1));
}

bool decode_command(bincode::Reader& r, CacheCommand& cmd) {
  uint32_t tag = 0;
  if (!r.u32(tag)) return false;
  switch (tag) {
    case 0: {
      auto& c = cmd.emplace<PutCommand>();
      return r.bytes(c.key, "Put.key") && r.bytes(c.value, "Put.value") &&
             r.opt_u64(c.ttl_ms, "Put.ttl_ms");
    }
    case 1:
      return r.bytes(cmd.emplace<DeleteCommand>().key, "Delete.key");
    case 2:
      cmd.emplace<ClearCommand>();
      return true;
    case 3:
      return r.bytes(cmd.emplace<GetCommand>().key, "Get.key");
    case 4: {
      auto& c = cmd.emplace<IncrCommand>();
      return r.bytes(c.key, "Incr.key") && r.i64(c.delta);
    }
    case 5: {
      auto& c = cmd.emplace<CompareAndSetCommand>();
      return r.bytes(c.key, "CompareAndSet.key") && r.bytes(c.expected, "CompareAndSet.expected") &&
             r.bytes(c.value, "CompareAndSet.value") && r.opt_u64(c.ttl_ms, "CompareAndSet.ttl_ms");
    }
    case 6: {
      auto& c = cmd.emplace<ExpireCommand>();
      return r.bytes(c.key, "Expire.key") && r.u64(c.ttl_ms);
    }
    case 7:
      return r.bytes(cmd.emplace<PersistCommand>().key, "Persist.key");
    case 8: {
      auto& c = cmd.emplace<AppendCommand>();
      return r.bytes(c.key, "Append.key") && r.bytes(c.value, "Append.value");
    }
    case 9:
      return r.bytes(cmd.emplace<GetDelCommand>().key, "GetDel.key");
    case 10:
      return r.bytes(cmd.emplace<ExistsCommand>().key, "Exists.key");
    case 11:
      return r.bytes(cmd.emplace<TtlCommand>().key, "Ttl.key");
    case 12:
      return r.bytes(cmd.emplace<StaleGetCommand>().key, "StaleGet.key");
    case 13:
      cmd.emplace<OpenSessionCommand>();
      return true;
    default:
      return unknown_tag<CacheCommand>(r, "CacheCommand", tag);
  }
}

bool decode_admin(bincode::Reader& r, AdminCommand& cmd) {
  uint32_t tag = 0;
  if (!r.u32(tag)) return false;
  switch (tag) {
    case 0: {
      auto& c = cmd.emplace<AddNodeCommand>();
      return r.u64(c.id) && r.str(c.addr, "AddNode.addr");
    }
    case 1:
      return r.u64(cmd.emplace<RemoveNodeCommand>().id);
    case 2:
      return r.u64(cmd.emplace<TransferLeaderCommand>().id);
    default:
      return unknown_tag<AdminCommand>(r, "AdminCommand", tag);
  }
}

bool decode_response(bincode::Reader& r, ClientResponse& m) {
  return r.u64(m.request_id) && r.boolean(m.success, "ClientResponse.success") &&
         r.opt_str(m.error, "ClientResponse.error") &&
         r.opt_u64(m.leader_hint, "ClientResponse.leader_hint") &&
         r.opt_bytes(m.value, "ClientResponse.value");
}

bool decode_forward(bincode::Reader& r, ForwardRequest& m) {
  uint32_t tag = 0;
  if (!(r.u64(m.origin) && r.u32(m.hops) && r.u64(m.request_id) && r.u32(tag))) return false;
  switch (tag) {
    case 0:
      return r.bytes(m.command.emplace<EngineCommand>().command, "EngineCommand.command");
    case 1:
      return decode_admin(r, m.command.emplace<AdminCommand>());
    default:
      return unknown_tag<ForwardedCommand>(r, "ForwardedCommand", tag);
  }
}

bool decode_status(bincode::Reader& r, StatusResponse& m) {
  uint64_t count = 0;
  if (!(r.u64(m.request_id) && r.u64(m.node_id) && r.str(m.role, "Status.role") && r.u64(m.term) &&
        r.u64(m.leader_id) && r.u64(m.commit_index) && r.u64(m.applied_index) &&
        r.u64(m.last_index) && r.u64(count)))
    return false;
  // Each member takes at least 17 bytes: refuse a count the payload cannot hold before reserving.
  if (count > r.remaining() / 17)
    return r.fail(
        fmt::format("Status.members count {} exceeds the {} bytes left", count, r.remaining()));
  m.members.resize(count);
  for (auto& mem : m.members) {
    if (!(r.u64(mem.id) && r.str(mem.addr, "Member.addr") && r.boolean(mem.voter, "Member.voter")))
      return false;
  }
  return r.u64(m.keys) && r.u64(m.used_memory);
}

bool decode_snapshot_ack(bincode::Reader& r, SnapshotAck& m) {
  uint32_t status = 0;
  if (!(r.u64(m.from) && r.u64(m.transfer_id) && r.u64(m.received) && r.u32(status))) return false;
  if (status > static_cast<uint32_t>(SnapshotAckStatus::kFailed))
    return r.fail(fmt::format("unknown SnapshotAck.status {} (known: 0..3)", status));
  m.status = static_cast<SnapshotAckStatus>(status);
  return r.opt_str(m.error, "SnapshotAck.error");
}

bool decode_body(bincode::Reader& r, uint32_t tag, Message& out) {
  switch (tag) {
    case 0:
      return r.bytes(out.emplace<RaftMessageWrapper>().data, "Raft.data");
    case 1: {
      auto& m = out.emplace<ClientRequest>();
      return r.u64(m.request_id) && decode_command(r, m.command);
    }
    case 2:
      return decode_response(r, out.emplace<ClientResponse>());
    case 3: {
      auto& m = out.emplace<PingRequest>();
      return r.u64(m.node_id) && r.str(m.raft_addr, "Ping.raft_addr");
    }
    case 4: {
      auto& m = out.emplace<PongResponse>();
      return r.u64(m.node_id) && r.str(m.raft_addr, "Pong.raft_addr") &&
             r.opt_u64(m.leader_id, "Pong.leader_id");
    }
    case 5:
      return decode_forward(r, out.emplace<ForwardRequest>());
    case 6:
      return decode_response(r, out.emplace<ForwardReply>().response);
    case 7:
      return r.u64(out.emplace<StatusRequest>().request_id);
    case 8:
      return decode_status(r, out.emplace<StatusResponse>());
    case 9: {
      auto& m = out.emplace<AdminRequest>();
      return r.u64(m.request_id) && decode_admin(r, m.command);
    }
    case 10: {
      auto& m = out.emplace<SnapshotChunk>();
      return r.u64(m.from) && r.u64(m.transfer_id) && r.u64(m.offset) && r.u64(m.total) &&
             r.u64(m.checksum) && r.bytes(m.header, "SnapshotChunk.header") &&
             r.bytes(m.data, "SnapshotChunk.data");
    }
    case 11:
      return decode_snapshot_ack(r, out.emplace<SnapshotAck>());
    case 12: {
      auto& m = out.emplace<PeerHello>();
      return r.u64(m.cluster_id) && r.u64(m.node_id) && r.str(m.addr, "PeerHello.addr");
    }
    case 13: {
      auto& m = out.emplace<MessagePart>();
      return r.u64(m.total) && r.bytes(m.data, "MessagePart.data");
    }
    case 14: {
      auto& m = out.emplace<SessionRequest>();
      return r.u64(m.request_id) && r.u64(m.session) && r.u64(m.seq) && r.u64(m.acked) &&
             decode_command(r, m.command);
    }
    default:
      return unknown_tag<Message>(r, "Message", tag);
  }
}

template <typename W>
void encode_to(const Message& msg, W& w) {
  w.u32(static_cast<uint32_t>(msg.index()));
  std::visit(Encoder<W>{w}, msg);
}

}  // namespace

size_t encoded_size(const Message& msg) {
  bincode::SizeCounter counter;
  encode_to(msg, counter);
  return counter.size();
}

void encode_into(const Message& msg, char* dst) {
  bincode::SpanWriter w(dst);
  encode_to(msg, w);
}

size_t encoded_part_size(std::string_view slice) {
  bincode::SizeCounter counter;
  counter.u32(static_cast<uint32_t>(message_index<MessagePart>));
  part_fields(counter, 0, slice);
  return counter.size();
}

void encode_part_into(uint64_t total, std::string_view slice, char* dst) {
  bincode::SpanWriter w(dst);
  w.u32(static_cast<uint32_t>(message_index<MessagePart>));
  part_fields(w, total, slice);
}

void encode_message(const Message& msg, std::string& out) {
  const size_t start = out.size();
  out.resize(start + encoded_size(msg));
  encode_into(msg, out.data() + start);
}

std::string encode_message(const Message& msg) {
  std::string out;
  encode_message(msg, out);
  return out;
}

NetResult<Message> decode_message(std::span<const uint8_t> payload) {
  bincode::Reader r(payload);
  uint32_t tag = 0;
  Message msg;
  if (!r.u32(tag) || !decode_body(r, tag, msg)) return Err{r.error()};
  if (r.remaining() != 0) {
    r.fail(fmt::format("{} trailing bytes after a complete message", r.remaining()));
    return Err{r.error()};
  }
  return msg;
}

const char* message_kind_name(const Message& msg) {
  static constexpr const char* kNames[] = {
      "Raft",          "ClientRequest", "ClientResponse", "Ping",           "Pong",
      "Forward",       "ForwardReply",  "StatusRequest",  "StatusResponse", "AdminRequest",
      "SnapshotChunk", "SnapshotAck",   "PeerHello",      "MessagePart",    "SessionRequest"};
  static_assert(std::size(kNames) == std::variant_size_v<Message>);
  return kNames[msg.index()];
}

}  // namespace cairn::net
