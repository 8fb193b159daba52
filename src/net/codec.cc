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
                        [&](const DeleteCommand& c) { w.bytes(c.key); },
                        [&](const ClearCommand&) {}, [&](const GetCommand& c) { w.bytes(c.key); }},
             cmd);
}

template <typename W>
struct Encoder {
  W& w;
  void operator()(const RaftMessageWrapper& m) { w.bytes(m.data); }
  void operator()(const ClientRequest& m) {
    w.u64(m.request_id);
    encode_command(m.command, w);
  }
  void operator()(const ClientResponse& m) {
    w.u64(m.request_id);
    w.boolean(m.success);
    w.opt_bytes(m.error);
    w.opt_u64(m.leader_hint);
    w.opt_bytes(m.value);
  }
  void operator()(const PingRequest& m) {
    w.u64(m.node_id);
    w.str(m.raft_addr);
  }
  void operator()(const PongResponse& m) {
    w.u64(m.node_id);
    w.str(m.raft_addr);
    w.opt_u64(m.leader_id);
  }
};

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
    default:
      return r.fail(fmt::format("unknown CacheCommand variant tag {} (known: 0..{})", tag,
                                std::variant_size_v<CacheCommand> - 1));
  }
}

bool decode_body(bincode::Reader& r, uint32_t tag, Message& out) {
  switch (tag) {
    case 0:
      return r.bytes(out.emplace<RaftMessageWrapper>().data, "Raft.data");
    case 1: {
      auto& m = out.emplace<ClientRequest>();
      return r.u64(m.request_id) && decode_command(r, m.command);
    }
    case 2: {
      auto& m = out.emplace<ClientResponse>();
      return r.u64(m.request_id) && r.boolean(m.success, "ClientResponse.success") &&
             r.opt_str(m.error, "ClientResponse.error") &&
             r.opt_u64(m.leader_hint, "ClientResponse.leader_hint") &&
             r.opt_bytes(m.value, "ClientResponse.value");
    }
    case 3: {
      auto& m = out.emplace<PingRequest>();
      return r.u64(m.node_id) && r.str(m.raft_addr, "Ping.raft_addr");
    }
    case 4: {
      auto& m = out.emplace<PongResponse>();
      return r.u64(m.node_id) && r.str(m.raft_addr, "Pong.raft_addr") &&
             r.opt_u64(m.leader_id, "Pong.leader_id");
    }
    default:
      return r.fail(fmt::format("unknown Message variant tag {} (known: 0..{})", tag,
                                std::variant_size_v<Message> - 1));
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
  static constexpr const char* kNames[] = {"Raft", "ClientRequest", "ClientResponse", "Ping",
                                           "Pong"};
  static_assert(std::size(kNames) == std::variant_size_v<Message>);
  return kNames[msg.index()];
}

}  // namespace cairn::net
