// The data directory's identity: which node of which cluster wrote it. A directory left by
// another node, another cluster, or an earlier run founded with other --peers must not be taken
// as this node's past (its term, vote and log would be wrong here), so a node refuses to start
// on it with a message that says how to go on.
//
// File `<data-dir>/cluster`, one line "cairn-cluster 1 cluster=<16 hex> node=<id>\n", written
// atomically once. The cluster id of a founded cluster is a hash of its founding members (ids
// and addresses), so every founding member computes the same one without talking; a node that
// joined a running cluster records 0 (the id is not known to it at start).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "common/result.h"
#include "net/messages.h"

namespace cairn::node {

struct Identity {
  uint64_t cluster = 0;  // 0: joined a running cluster
  net::NodeId node = 0;
  bool operator==(const Identity&) const = default;
};

// The id of a cluster founded with these members: FNV-1a 64 of "id=addr," in id order, or, with a
// `token` (--cluster-token, for founders that reach each other at different addresses: NAT,
// proxies), of "id," in id order and the token.
uint64_t founding_cluster_id(const std::map<net::NodeId, std::string>& peers,
                             const std::string& token = {});

// Records `mine` in `dir` if nothing is recorded yet; otherwise checks it: another node id, or
// another founding membership, is an error saying what the directory holds. Returns the identity
// in force: the recorded cluster id when `mine` does not know it (a node that joined).
Result<Identity, std::string> check_identity(const std::string& dir, const Identity& mine);
// Records the cluster id a joined node learned from the cluster (replacing 0).
Status<std::string> record_cluster(const std::string& dir, const Identity& learned);

}  // namespace cairn::node
