// Conversions between RaftMessageWrapper (bytes on the wire) and the protobuf eraftpb::Message,
// as the seed's `from_raft_message` / `to_raft_message`.
#pragma once

#include "net/error.h"
#include "net/messages.h"
#include "proto/raft.pb.h"

namespace cairn::net {

// Serialization error if the message cannot be encoded (e.g. larger than protobuf's 2 GiB limit).
NetResult<RaftMessageWrapper> from_raft_message(const eraftpb::Message& msg);

// Deserialization error if `wrapper.data` is not a valid protobuf eraftpb::Message.
NetResult<eraftpb::Message> to_raft_message(const RaftMessageWrapper& wrapper);

}  // namespace cairn::net
