// Many cache commands in one Raft entry. Under load the leader proposes every write queued since
// the last loop turn as a single entry: one log slot, one protobuf Entry and one copy through
// storage, replication and apply per batch instead of per write - the Raft work per write shrinks
// with the load, which is what makes batching pay.
//
// Layout: 0xB1 | count varint | (length varint | cache::encode_entry bytes)*. An entry whose first
// byte is the cache codec's version (1) is a single command, as the node proposes for its own
// entries (eviction). decode refuses truncation, a count past the input and trailing bytes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace cairn::node {

inline constexpr char kBatchMarker = '\xB1';

class BatchBuilder {
 public:
  void add(std::string_view encoded_command);
  size_t count() const { return count_; }
  size_t bytes() const { return body_.size(); }
  std::string finish() const;

 private:
  std::string body_;
  size_t count_ = 0;
};

bool is_batch(std::string_view entry_data);
// The encoded commands of a batch entry, as views into `entry_data`.
Result<std::vector<std::string_view>, std::string> decode_batch(std::string_view entry_data);

}  // namespace cairn::node
