// KvState and Command encodings: see kv_model.h. Single-threaded.
#include "kv_model.h"

#include <sstream>

namespace cairn::sim {

std::string Command::encode() const {
  if (kind == kMarker) return "M|" + std::to_string(op_id);
  return "P|" + std::to_string(op_id) + "|" + key + "|" + value;
}

std::optional<Command> Command::decode(const std::string& data) {
  if (data.size() < 3 || data[1] != '|') return std::nullopt;
  Command c;
  const std::size_t a = data.find('|', 2);
  c.op_id = std::stoull(data.substr(2, a == std::string::npos ? std::string::npos : a - 2));
  if (data[0] == 'M') {
    c.kind = kMarker;
    return c;
  }
  if (data[0] != 'P' || a == std::string::npos) return std::nullopt;
  const std::size_t b = data.find('|', a + 1);
  if (b == std::string::npos) return std::nullopt;
  c.key = data.substr(a + 1, b - a - 1);
  c.value = data.substr(b + 1);
  return c;
}

bool KvState::apply(const Command& c) {
  if (!applied_ops_.insert(c.op_id).second) return false;
  if (c.kind == Command::kPut) data_[c.key] = c.value;
  return true;
}

std::string KvState::get(const std::string& key) const {
  auto it = data_.find(key);
  return it == data_.end() ? std::string() : it->second;
}

std::string KvState::serialize() const {
  std::string out;
  for (const auto& [k, v] : data_)
    out += "k " + k + " " + v + "\n";
  for (std::uint64_t id : applied_ops_)
    out += "o " + std::to_string(id) + "\n";
  return out;
}

KvState KvState::deserialize(const std::string& data) {
  KvState s;
  std::istringstream in(data);
  std::string tag;
  while (in >> tag) {
    if (tag == "k") {
      std::string k, v;
      in >> k >> v;
      s.data_[k] = v;
    } else {
      std::uint64_t id = 0;
      in >> id;
      s.applied_ops_.insert(id);
    }
  }
  return s;
}

}  // namespace cairn::sim
