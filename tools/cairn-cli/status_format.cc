#include "status_format.h"

#include <cstdio>

namespace cairn::cli {

namespace {

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

std::string member_line(const net::Member& m, net::NodeId leader) {
  std::string line = std::to_string(m.id) + " " + m.addr + (m.voter ? " voter" : " learner");
  if (m.id == leader) line += " leader";
  return line + "\n";
}

}  // namespace

std::string status_text(const net::StatusResponse& s) {
  std::string out;
  auto field = [&](const char* name, const std::string& value) {
    out += name;
    out += ": " + value + "\n";
  };
  field("node_id", std::to_string(s.node_id));
  field("role", s.role);
  field("term", std::to_string(s.term));
  field("leader_id", s.leader_id ? std::to_string(s.leader_id) : "unknown");
  field("commit_index", std::to_string(s.commit_index));
  field("applied_index", std::to_string(s.applied_index));
  field("last_index", std::to_string(s.last_index));
  field("keys", std::to_string(s.keys));
  field("used_memory", std::to_string(s.used_memory));
  out += "members:\n";
  for (const auto& m : s.members)
    out += "  " + member_line(m, s.leader_id);
  return out;
}

std::string status_json(const net::StatusResponse& s) {
  std::string out = "{";
  out += "\"node_id\":" + std::to_string(s.node_id);
  out += ",\"role\":" + json_string(s.role);
  out += ",\"term\":" + std::to_string(s.term);
  out += ",\"leader_id\":" + std::to_string(s.leader_id);
  out += ",\"commit_index\":" + std::to_string(s.commit_index);
  out += ",\"applied_index\":" + std::to_string(s.applied_index);
  out += ",\"last_index\":" + std::to_string(s.last_index);
  out += ",\"keys\":" + std::to_string(s.keys);
  out += ",\"used_memory\":" + std::to_string(s.used_memory);
  out += ",\"members\":[";
  for (size_t i = 0; i < s.members.size(); i++) {
    const auto& m = s.members[i];
    if (i) out += ",";
    out += "{\"id\":" + std::to_string(m.id) + ",\"addr\":" + json_string(m.addr) +
           ",\"voter\":" + (m.voter ? "true" : "false") + "}";
  }
  return out + "]}\n";
}

std::string members_text(const net::StatusResponse& s) {
  std::string out;
  for (const auto& m : s.members)
    out += member_line(m, s.leader_id);
  return out;
}

}  // namespace cairn::cli
