// The messages of the native protocol. `Message` is a variant whose alternatives are, in order,
// exactly the seed's five kinds: its index is the bincode variant tag on the wire. New kinds are
// appended, never inserted. Field order in each struct is the wire order (docs/protocol.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

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
// cairn's additions (tags 4..). Integer results travel as decimal text in ClientResponse.value.
struct IncrCommand {  // adds delta to an integer value (a missing key counts as 0); value: the sum
  Bytes key;
  int64_t delta = 1;
  bool operator==(const IncrCommand&) const = default;
};
// Sets `value` only if the key exists and holds exactly `expected`; value: "1" if set, "0" if not.
struct CompareAndSetCommand {
  Bytes key;
  Bytes expected;
  Bytes value;
  std::optional<uint64_t> ttl_ms;
  bool operator==(const CompareAndSetCommand&) const = default;
};
struct ExpireCommand {  // value: "1" if the key exists and got the expiry, else "0"
  Bytes key;
  uint64_t ttl_ms = 0;
  bool operator==(const ExpireCommand&) const = default;
};
struct PersistCommand {  // value: "1" if an expiry was removed, else "0"
  Bytes key;
  bool operator==(const PersistCommand&) const = default;
};
struct AppendCommand {  // value: the new length
  Bytes key;
  Bytes value;
  bool operator==(const AppendCommand&) const = default;
};
struct GetDelCommand {  // value: the removed value, or none
  Bytes key;
  bool operator==(const GetDelCommand&) const = default;
};
struct ExistsCommand {  // a linearizable read; value: "1" or "0"
  Bytes key;
  bool operator==(const ExistsCommand&) const = default;
};
struct TtlCommand {  // a linearizable read; value: ms left, "-1" no expiry, "-2" no key
  Bytes key;
  bool operator==(const TtlCommand&) const = default;
};
// Get served from the answering node's applied state at once, without confirming leadership:
// fast, possibly stale (it may miss writes acknowledged elsewhere).
struct StaleGetCommand {
  Bytes key;
  bool operator==(const StaleGetCommand&) const = default;
};
// Opens a client session for exactly-once writes (SessionRequest); value: its id, in decimal.
struct OpenSessionCommand {
  bool operator==(const OpenSessionCommand&) const = default;
};
using CacheCommand =
    std::variant<PutCommand, DeleteCommand, ClearCommand, GetCommand, IncrCommand,
                 CompareAndSetCommand, ExpireCommand, PersistCommand, AppendCommand, GetDelCommand,
                 ExistsCommand, TtlCommand, StaleGetCommand, OpenSessionCommand>;

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

// Cluster administration, answered with a ClientResponse.
struct AddNodeCommand {  // adds a node as a learner; the leader promotes it once it has caught up
  NodeId id = 0;
  std::string addr;  // its native (and Raft) "host:port"
  bool operator==(const AddNodeCommand&) const = default;
};
struct RemoveNodeCommand {
  NodeId id = 0;
  bool operator==(const RemoveNodeCommand&) const = default;
};
struct TransferLeaderCommand {
  NodeId id = 0;
  bool operator==(const TransferLeaderCommand&) const = default;
};
using AdminCommand = std::variant<AddNodeCommand, RemoveNodeCommand, TransferLeaderCommand>;

struct AdminRequest {
  uint64_t request_id = 0;
  AdminCommand command;
  bool operator==(const AdminRequest&) const = default;
};

// A write in the cache engine's own command encoding (src/cache/codec.h), opaque to this layer.
// Forwarded writes travel in this form so that every front end (native, Redis) can forward any
// command the engine has; the leader answers with the engine's reply, encoded the same way, in
// ClientResponse.value.
struct EngineCommand {
  Bytes command;
  bool operator==(const EngineCommand&) const = default;
};

// What a follower sends the leader, over the Raft transport, for a request only the leader can
// carry out. `hops` counts the forwards so far; a node refuses to forward past the hop limit.
// The leader answers the origin with a ForwardReply carrying the same request_id.
using ForwardedCommand = std::variant<EngineCommand, AdminCommand>;
struct ForwardRequest {
  NodeId origin = 0;
  uint32_t hops = 0;
  uint64_t request_id = 0;  // chosen by the origin, unique among its outstanding forwards
  ForwardedCommand command;
  bool operator==(const ForwardRequest&) const = default;
};
struct ForwardReply {
  ClientResponse response;  // response.request_id is the ForwardRequest's
  bool operator==(const ForwardReply&) const = default;
};

struct StatusRequest {
  uint64_t request_id = 0;
  bool operator==(const StatusRequest&) const = default;
};
struct Member {
  NodeId id = 0;
  std::string addr;
  bool voter = true;  // false: a learner
  bool operator==(const Member&) const = default;
};
// One node's view of itself and the cluster.
struct StatusResponse {
  uint64_t request_id = 0;
  NodeId node_id = 0;
  std::string role;  // "leader", "follower", "candidate", "pre-candidate"
  uint64_t term = 0;
  NodeId leader_id = 0;  // 0 when unknown
  uint64_t commit_index = 0;
  uint64_t applied_index = 0;
  uint64_t last_index = 0;
  std::vector<Member> members;
  uint64_t keys = 0;
  uint64_t used_memory = 0;
  bool operator==(const StatusResponse&) const = default;
};

// A piece of a Raft snapshot, which may be far larger than one frame (docs/node.md, "Snapshot
// transfer"). The sender numbers each transfer; the piece at offset 0 also carries the MsgSnapshot
// itself (protobuf, its data left empty), and every piece the size and XXH3-64 of the whole data,
// which the receiver checks before handing the snapshot to its Raft core.
struct SnapshotChunk {
  NodeId from = 0;
  uint64_t transfer_id = 0;
  uint64_t offset = 0;  // of `data` within the snapshot's data
  uint64_t total = 0;   // the snapshot data's size
  uint64_t checksum = 0;
  Bytes header;  // offset 0 only: the MsgSnapshot without its data
  Bytes data;
  bool operator==(const SnapshotChunk&) const = default;
};
// The receiver's answer to each SnapshotChunk.
enum class SnapshotAckStatus : uint32_t {
  kReceiving = 0,  // `received` bytes have arrived in order
  kResend = 1,     // a piece was missing: send again from `received`
  kDone = 2,       // complete, checked and handed to Raft
  kFailed = 3,     // refused for good (`error` says why): the sender backs off and starts over
};
struct SnapshotAck {
  NodeId from = 0;  // the receiver
  uint64_t transfer_id = 0;
  uint64_t received = 0;
  SnapshotAckStatus status = SnapshotAckStatus::kReceiving;
  std::optional<std::string> error;
  bool operator==(const SnapshotAck&) const = default;
};

// The first message on every connection a node opens to a peer: which cluster and node it is.
// A node takes Raft, forwarding and snapshot traffic only on connections whose hello named its
// own cluster (docs/node.md, "Identity of a data directory").
struct PeerHello {
  uint64_t cluster_id = 0;
  NodeId node_id = 0;
  // Where the sender takes its peers' traffic (its --listen). A member that has not yet applied
  // the entry adding the sender learns from it where to answer (Node::learn_address).
  std::string addr;
  bool operator==(const PeerHello&) const = default;
};

// A piece of one message too large for a frame (an append carrying a value of hundreds of MB, a
// forwarded write of one). Between peers only: the sender encodes the message as usual and sends
// that payload cut into pieces, back to back on one connection; the receiver joins them and
// handles the whole as if it had come in a single frame (docs/protocol.md, "Messages larger than
// a frame").
struct MessagePart {
  uint64_t total = 0;  // the whole message's encoded size, the same in every piece
  Bytes data;          // the next bytes of it
  bool operator==(const MessagePart&) const = default;
};

// A ClientRequest within a client session (docs/protocol.md, "Client sessions"), answered with a
// ClientResponse. A write numbered `seq` takes effect at most once in session `session`, however
// often it is sent: a repeat is answered with the first answer. `acked`: the client has the
// answers of all the session's writes numbered below it. Reads are served as in a ClientRequest.
struct SessionRequest {
  uint64_t request_id = 0;
  uint64_t session = 0;
  uint64_t seq = 0;
  uint64_t acked = 0;
  CacheCommand command;
  bool operator==(const SessionRequest&) const = default;
};

using Message =
    std::variant<RaftMessageWrapper, ClientRequest, ClientResponse, PingRequest, PongResponse,
                 ForwardRequest, ForwardReply, StatusRequest, StatusResponse, AdminRequest,
                 SnapshotChunk, SnapshotAck, PeerHello, MessagePart, SessionRequest>;

// The variant index (wire tag) of message kind T.
template <typename T, size_t I = 0>
constexpr size_t message_index_of() {
  if constexpr (std::is_same_v<std::variant_alternative_t<I, Message>, T>)
    return I;
  else
    return message_index_of<T, I + 1>();
}
template <typename T>
inline constexpr size_t message_index = message_index_of<T>();

// Kind names for logs: "Raft", "ClientRequest", ...
const char* message_kind_name(const Message& msg);

}  // namespace cairn::net
