// AddressBook: the native address of every member, replicated with the membership itself. An
// address enters with the conf change that adds its node (carried in the change's context) and
// travels in snapshots, so a node that joins or catches up by snapshot learns every address.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "common/result.h"
#include "net/messages.h"

namespace cairn::node {

class AddressBook {
 public:
  void set(net::NodeId id, std::string addr) { addrs_[id] = std::move(addr); }
  void erase(net::NodeId id) { addrs_.erase(id); }
  const std::string* find(net::NodeId id) const {
    auto it = addrs_.find(id);
    return it == addrs_.end() ? nullptr : &it->second;
  }
  const std::map<net::NodeId, std::string>& all() const { return addrs_; }

  // "1=host:port,2=host:port": for people and for a joining node (see join.h).
  std::string to_text() const;
  // Parses to_text()'s form; entries that do not parse are skipped.
  static AddressBook from_text(std::string_view text);

  // Layout: "CAIRNAB1" | count u32 | (id u64 | length u32 | addr bytes)*, little-endian.
  // Appends to `out`.
  void encode(std::string& out) const;
  // Decodes from the front of `in`, advancing it past what was read.
  static Result<AddressBook, std::string> decode(std::string_view& in);

 private:
  std::map<net::NodeId, std::string> addrs_;
};

}  // namespace cairn::node
