// The messages of the native protocol. `Message` is a variant whose alternatives are, in order,
// exactly the seed's five kinds: its index is the bincode variant tag on the wire. New kinds are
// appended, never inserted. Field order in each struct is the wire order (docs/protocol.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

namespace cairn::net {

using NodeId = uint64_t;

// Binary-safe keys and values; std::string is used as a byte container.
using Bytes = std::string;

// Commands a client can send. The variant index is the wire tag: append new commands only.
struct PutCommand {
  Bytes key;
  Bytes value;
  std::optional<uint64_t> ttl_ms;  // relative; the leader turns it into an absolute expiry
  bool operator==(const PutCommand&) const = default;
};
struct DeleteCommand {
  Bytes key;
  bool operator==(const DeleteCommand&) const = default;
};
struct ClearCommand {
  bool operator==(const ClearCommand&) const = default;
};
struct GetCommand {
  Bytes key;
  bool operator==(const GetCommand&) const = default;
};
using CacheCommand = std::variant<PutCommand, DeleteCommand, ClearCommand, GetCommand>;

// Wraps a protobuf-encoded eraftpb::Message (see net/raft_message.h for the conversions).
struct RaftMessageWrapper {
  Bytes data;
  bool operator==(const RaftMessageWrapper&) const = default;
};

struct ClientRequest {
  uint64_t request_id = 0;
  CacheCommand command;
  bool operator==(const ClientRequest&) const = default;
};

// The seed's four fields first; fields after them are cairn's additions, appended.
struct ClientResponse {
  uint64_t request_id = 0;
  bool success = false;
  std::optional<std::string> error;   // UTF-8 text for people
  std::optional<NodeId> leader_hint;  // set when this node is not the leader
  std::optional<Bytes> value;         // the value a Get (or a Put returning the old value) read
  bool operator==(const ClientResponse&) const = default;
};

struct PingRequest {
  NodeId node_id = 0;
  std::string raft_addr;  // UTF-8 "host:port"
  bool operator==(const PingRequest&) const = default;
};

struct PongResponse {
  NodeId node_id = 0;
  std::string raft_addr;
  std::optional<NodeId> leader_id;
  bool operator==(const PongResponse&) const = default;
};

using Message =
    std::variant<RaftMessageWrapper, ClientRequest, ClientResponse, PingRequest, PongResponse>;

// Kind names for logs: "Raft", "ClientRequest", ...
const char* message_kind_name(const Message& msg);

}  // namespace cairn::net
