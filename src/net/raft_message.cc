#include "net/raft_message.h"

#include <fmt/format.h>

namespace cairn::net {

NetResult<RaftMessageWrapper> from_raft_message(const eraftpb::Message& msg) {
  RaftMessageWrapper w;
  if (!msg.SerializeToString(&w.data)) {
    return Err(NetworkError::serialization(
        fmt::format("cannot encode Raft {} to node {} ({} bytes)",
                    eraftpb::MessageType_Name(msg.msg_type()), msg.to(), msg.ByteSizeLong())));
  }
  return w;
}

NetResult<eraftpb::Message> to_raft_message(const RaftMessageWrapper& wrapper) {
  eraftpb::Message msg;
  if (!msg.ParseFromString(wrapper.data)) {
    return Err(NetworkError::deserialization(fmt::format(
        "Raft payload of {} bytes is not a valid eraftpb.Message protobuf", wrapper.data.size())));
  }
  return msg;
}

}  // namespace cairn::net
