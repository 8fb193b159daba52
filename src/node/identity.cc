#include "node/identity.h"

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "storage/files.h"

namespace cairn::node {

uint64_t founding_cluster_id(const std::map<net::NodeId, std::string>& peers,
                             const std::string& token) {
  uint64_t h = 0xcbf29ce484222325ull;
  auto mix = [&h](const std::string& text) {
    for (char c : text) {
      h ^= static_cast<unsigned char>(c);
      h *= 0x100000001b3ull;
    }
  };
  for (const auto& [id, addr] : peers)
    mix(token.empty() ? fmt::format("{}={},", id, addr) : fmt::format("{},", id));
  if (!token.empty()) mix("token=" + token);
  return h;
}

Status<std::string> record_cluster(const std::string& dir, const Identity& learned) {
  return storage::replace_file(
      dir, (std::filesystem::path(dir) / "cluster").string(),
      fmt::format("cairn-cluster 1 cluster={:016x} node={}\n", learned.cluster, learned.node));
}

Result<Identity, std::string> check_identity(const std::string& dir, const Identity& mine) {
  const std::string path = (std::filesystem::path(dir) / "cluster").string();
  std::ifstream in(path);
  if (!in) {
    if (std::filesystem::exists(path)) return Err{fmt::format("cannot read {}", path)};
    if (auto st = record_cluster(dir, mine); !st.ok()) return Err{st.error()};
    return mine;
  }
  std::string line;
  std::getline(in, line);
  unsigned long long cluster = 0, node = 0;
  int version = 0;
  char tail = 0;
  if (std::sscanf(line.c_str(), "cairn-cluster %d cluster=%llx node=%llu%c", &version, &cluster,
                  &node, &tail) != 3 ||
      version != 1)
    return Err{fmt::format("{} is corrupt (\"{}\")", path, line)};
  if (node != mine.node)
    return Err{
        fmt::format("{} belongs to node {}, not node {}: give this node its own "
                    "--data-dir",
                    dir, node, mine.node)};
  if (cluster != 0 && mine.cluster != 0 && cluster != mine.cluster)
    return Err{fmt::format(
        "{} belongs to a cluster founded with other members (cluster {:016x}, these --peers "
        "make {:016x}): start with the --peers (and --listen) it was founded with, or use "
        "another --data-dir; delete it only if its data is not needed",
        dir, cluster, mine.cluster)};
  return Identity{mine.cluster != 0 ? mine.cluster : cluster, mine.node};
}

}  // namespace cairn::node
