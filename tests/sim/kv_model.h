// The simulated state machine: a string map with per-operation deduplication (thesis §6.3: a
// retried or duplicated proposal applies once), and its command and snapshot encodings.
// Single-threaded; owned by one simulated node.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

namespace cairn::sim {

struct Command {
  enum Kind { kPut, kMarker } kind = kPut;
  std::uint64_t op_id = 0;
  std::string key;
  std::string value;

  std::string encode() const;
  static std::optional<Command> decode(const std::string& data);
};

class KvState {
 public:
  // Applies a command; returns false if this op id was applied before (a duplicate).
  bool apply(const Command& c);
  std::string get(const std::string& key) const;
  std::string serialize() const;
  static KvState deserialize(const std::string& data);
  bool operator==(const KvState&) const = default;

 private:
  std::map<std::string, std::string> data_;
  std::set<std::uint64_t> applied_ops_;
};

}  // namespace cairn::sim
