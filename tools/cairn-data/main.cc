// cairn-data: reads a node's data directory offline and says what it holds and whether it is
// sound, without changing anything (a torn tail is reported, not truncated).
//
//   cairn-data inspect DIR
//
// Prints the term and vote, the stored membership, the snapshot files (the newest checked whole),
// the log's segments with their entry ranges, and the state a restart would begin from. Exit
// status: 0 when everything checks, 1 when something is damaged or unreadable (the message names
// the file and offset), 2 on a usage error.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <string>

#include "common/version.h"
#include "node/hard_state_file.h"
#include "storage/snapshot_files.h"
#include "storage/wal.h"

namespace fs = std::filesystem;
using namespace cairn;

namespace {

std::string ids(const google::protobuf::RepeatedField<uint64_t>& v) {
  std::string out;
  for (auto id : v) {
    if (!out.empty()) out += ',';
    out += std::to_string(id);
  }
  return out.empty() ? "-" : out;
}

int inspect(const std::string& dir) {
  if (!fs::is_directory(dir)) {
    fmt::print(stderr, "cairn-data: {} is not a directory\n", dir);
    return 1;
  }
  int status = 0;
  const auto fail = [&](const std::string& what) {
    fmt::print("DAMAGED: {}\n", what);
    status = 1;
  };
  fmt::print("data directory: {}\n", dir);
  auto hs_file = node::HardStateFile::open(dir);
  if (hs_file.ok()) {
    auto tv = hs_file->load();
    if (!tv.ok())
      fail(tv.error());
    else if (*tv)
      fmt::print("hard-state: term {} vote {}\n", (*tv)->term, (*tv)->vote);
    else
      fmt::print("hard-state: none\n");
    auto members = hs_file->load_members();
    if (!members.ok())
      fail(members.error());
    else
      fmt::print("members: {}\n", *members ? **members : std::string("none stored"));
    auto recovering = hs_file->load_recovering();
    if (!recovering.ok())
      fail(recovering.error());
    else if (*recovering)
      fmt::print(
          "recovering: this node lost its log and had not caught up when it last ran; it will "
          "not vote until it has (docs/node.md, \"Restarts\")\n");
  }

  raft::Index snap_index = 0;
  const std::string snap_dir = (fs::path(dir) / "snap").string();
  if (fs::is_directory(snap_dir)) {
    // Listing and reading only: open() would remove leftovers, so list the files directly.
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(snap_dir))
      names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    for (const auto& n : names) {
      const std::string path = (fs::path(snap_dir) / n).string();
      if (n.size() < 5 || n.substr(n.size() - 5) != ".snap") {
        fmt::print("snapshot dir: {} (not a snapshot; a leftover is removed at start)\n", n);
        continue;
      }
      auto snap = storage::check_snapshot_file(path);  // read in steps, never whole
      if (!snap.ok()) {
        fail(snap.error());
        continue;
      }
      const auto& m = snap->metadata;
      snap_index = std::max<raft::Index>(snap_index, m.index());
      fmt::print("snapshot: {} index {} term {} voters {} learners {} ({} bytes of data) ok\n", n,
                 m.index(), m.term(), ids(m.conf_state().voters()), ids(m.conf_state().learners()),
                 snap->data_bytes);
    }
  } else {
    fmt::print("snapshots: none (the node keeps its log in memory, or never started)\n");
  }

  const std::string wal_dir = (fs::path(dir) / "wal").string();
  if (!fs::is_directory(wal_dir)) {
    fmt::print("log: none on disk\n");
  } else {
    storage::WalContents log;
    storage::WalOptions opts;
    opts.dir = wal_dir;
    opts.read_only = true;
    auto wal = storage::Wal::open(opts, &log);
    if (!wal.ok()) {
      fail(wal.error());
    } else {
      for (const auto& s : log.segments)
        fmt::print("segment: {} {} bytes, {} records, entries {}\n",
                   fs::path(s.path).filename().string(), s.bytes, s.records,
                   s.first_entry == 0 ? std::string("none")
                                      : fmt::format("{}..{}", s.first_entry, s.last_entry));
      for (const auto& w : log.warnings)
        fmt::print("warning: {}\n", w);
      const auto& h = log.hard_state;
      fmt::print(
          "log: snapshot mark {} (term {}), entries {}, hard state term {} vote {} "
          "commit {}\n",
          log.snapshot_index, log.snapshot_term,
          log.entries.empty()
              ? std::string("none")
              : fmt::format("{}..{}", log.entries.front().index(), log.entries.back().index()),
          h.term(), h.vote(), h.commit());
      if (log.snapshot_index > snap_index)
        fail(
            fmt::format("the log starts after a snapshot at index {}, but the newest snapshot "
                        "file is at index {}",
                        log.snapshot_index, snap_index));
      // What a restart replays: the entries after the newest snapshot, which must follow it.
      for (const auto& e : log.entries) {
        if (e.index() <= snap_index) continue;
        if (e.index() != snap_index + 1)
          fail(fmt::format("the log resumes at index {}, after a snapshot at {}", e.index(),
                           snap_index));
        break;
      }
    }
  }
  fmt::print("{}\n", status == 0 ? "ok" : "damaged: the node would refuse to start");
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"cairn-data: reads a cairn node's data directory offline, changing nothing",
               "cairn-data"};
  app.set_version_flag("--version", std::string(kVersion));
  app.footer(
      "inspect prints the term and vote, the stored membership, the snapshot files (the newest "
      "checked whole), the log's segments with their entry ranges, and the state a restart would "
      "begin from; a torn tail is reported, not truncated.\n"
      "Exit status: 0 when everything checks; 1 when something is damaged or unreadable (the "
      "message names the file and offset); 2 bad usage.\n");
  app.require_subcommand(1);
  std::string dir;
  auto* inspect_cmd = app.add_subcommand("inspect", "check a node's --data-dir and report on it");
  inspect_cmd->add_option("DIR", dir, "the node's --data-dir")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  return inspect(dir);
}
