// HardStateFile: the node's term and vote, kept on disk even though the log lives in memory.
//
// Why: a node restarted without its data must never vote twice in one term. Its log is gone
// either way (docs/node.md, "Restarts"); its term and vote are a few bytes, written with fsync
// before any message that depends on them leaves the node (Ready::must_sync), and read back at
// start. The file also tells a restarted node that it was a member before, so it knows it lost
// entries and must not count as holding them (the node's recovery rule).
//
// Format: one line of text, "cairn-hard-state 1 term=<u64> vote=<u64>\n", replaced atomically
// (write a temporary file, fsync it, rename over, fsync the directory). The membership is a
// second file, "members", one line "cairn-members 1 <id=addr,...>\n", replaced the same way.
// Thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/result.h"

namespace cairn::node {

struct TermAndVote {
  uint64_t term = 0;
  uint64_t vote = 0;
  bool operator==(const TermAndVote&) const = default;
};

class HardStateFile {
 public:
  // Creates `dir` if needed and checks it is writable.
  static Result<HardStateFile, std::string> open(const std::string& dir);

  // The stored state, nullopt if there is none yet; an error if the file is unreadable or corrupt
  // (the node then refuses to start rather than guess).
  Result<std::optional<TermAndVote>, std::string> load() const;
  // Durably replaces the stored state. Returns an error text on any I/O failure.
  Status<std::string> store(const TermAndVote& tv) const;

  // The membership in force when the node last applied a change of it, as AddressBook::to_text
  // ("1=host:port,2=host:port"); nullopt if none was stored. Kept beside the term and vote so a
  // restarted node knows whether it was ever more than a cluster of one, whatever its flags say.
  Result<std::optional<std::string>, std::string> load_members() const;
  Status<std::string> store_members(const std::string& members) const;

  // Whether the node was still catching up after losing its log (the restart rule) when it last
  // ran: a third file, "recovering", present from the moment recovery begins until it ends. With
  // the log on disk, a node that crashes mid-recovery comes back with part of a log, which
  // alone would look like a node that kept its data; the file says it did not.
  Result<bool, std::string> load_recovering() const;
  Status<std::string> store_recovering(bool recovering) const;

  const std::string& path() const { return path_; }

 private:
  explicit HardStateFile(std::string dir);
  Status<std::string> replace(const std::string& path, const std::string& data) const;

  std::string dir_;
  std::string path_;
  std::string members_path_;
  std::string recovering_path_;
};

}  // namespace cairn::node
