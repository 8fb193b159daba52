// Many cache commands in one Raft entry. Under load the leader proposes every write queued since
// the last loop turn as a single entry: one log slot, one protobuf Entry and one copy through
// storage, replication and apply per batch instead of per write - the Raft work per write shrinks
// with the load, which is what makes batching pay.
//
// Layout: 0xB1 | count varint | (length varint | cache::encode_entry bytes)*. An entry whose first
// byte is the cache codec's version (1) is a single command, as the node proposes for its own
// entries (eviction). decode refuses truncation, a count past the input and trailing bytes.
// The builder writes the count as a five-byte varint (continuation bits set on the first four,
// which the decoder reads like any varint), so it can fill it in last and hand the buffer over
// without copying it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace cairn::node {

inline constexpr char kBatchMarker = '\xB1';

class BatchBuilder {
 public:
  BatchBuilder();
  void add(std::string_view encoded_command);
  // Adds an encoded command (cache::encode_entry bytes, at least kEntryMinBytes long), stamped
  // with time_ms in the batch's copy. Returns its size; one larger than max_bytes is not added.
  size_t add_stamped(std::string_view entry, int64_t time_ms, size_t max_bytes);
  void reserve(size_t bytes) { body_.reserve(kHeaderBytes + bytes); }
  size_t count() const { return count_; }
  size_t bytes() const { return body_.size() - kHeaderBytes; }
  // The entry's data; the builder is empty afterwards.
  std::string finish();

 private:
  static constexpr size_t kHeaderBytes = 6;  // marker + five-byte count
  std::string body_;
  size_t count_ = 0;
};

bool is_batch(std::string_view entry_data);

// A write too large for one entry (a SET of hundreds of MB) is proposed as several: fragments of
// its entry data, applied once the last has arrived (docs/node.md, "Large writes"). Each entry
// then costs the node thread, the log and an append a bounded amount of work.
//
// Layout: 0xB2 | first varint | total varint | offset varint | bytes. `first` is the log index
// of the write's first fragment (its name on every replica), `total` the whole data's size and
// `offset` where these bytes go. total == 0 is an abort: the leader gave the write up, and the
// replicas drop what they have of it.
inline constexpr char kFragmentMarker = '\xB2';
// The largest write a fragment may name. A constant, not a node's configured limits: every
// replica must take or refuse the same fragments.
inline constexpr uint64_t kMaxFragmentedBytes = uint64_t{4} << 30;
struct Fragment {
  uint64_t first = 0;
  uint64_t total = 0;
  uint64_t offset = 0;
  std::string_view bytes;
  bool abort() const { return total == 0; }
  bool last() const { return total != 0 && offset + bytes.size() == total; }
};
std::string encode_fragment(uint64_t first, uint64_t total, uint64_t offset,
                            std::string_view bytes);
bool is_fragment(std::string_view entry_data);
// Refuses truncation and bytes that would run past `total`.
Result<Fragment, std::string> decode_fragment(std::string_view entry_data);
// The encoded commands of a batch entry, as views into `entry_data`.
Result<std::vector<std::string_view>, std::string> decode_batch(std::string_view entry_data);

}  // namespace cairn::node
