#include "node/hard_state_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "storage/files.h"

namespace cairn::node {
namespace {

std::string errno_text() {
  return std::strerror(errno);
}

}  // namespace

HardStateFile::HardStateFile(std::string dir)
    : dir_(std::move(dir)),
      path_((std::filesystem::path(dir_) / "hard-state").string()),
      members_path_((std::filesystem::path(dir_) / "members").string()),
      recovering_path_((std::filesystem::path(dir_) / "recovering").string()) {}

Result<HardStateFile, std::string> HardStateFile::open(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Err{fmt::format("cannot create data directory {}: {}", dir, ec.message())};
  if (::access(dir.c_str(), W_OK) != 0)
    return Err{fmt::format("data directory {} is not writable: {}", dir, errno_text())};
  return HardStateFile(dir);
}

Result<std::optional<TermAndVote>, std::string> HardStateFile::load() const {
  std::ifstream in(path_);
  if (!in) {
    if (!std::filesystem::exists(path_)) return std::optional<TermAndVote>{};
    return Err{fmt::format("cannot read {}", path_)};
  }
  std::string line;
  std::getline(in, line);
  TermAndVote tv;
  unsigned long long term = 0, vote = 0;
  int version = 0;
  char tail = 0;
  if (std::sscanf(line.c_str(), "cairn-hard-state %d term=%llu vote=%llu%c", &version, &term, &vote,
                  &tail) != 3 ||
      version != 1)
    return Err{
        fmt::format("{} is corrupt (\"{}\"); remove the data directory only if this node's "
                    "data is known to be gone from the cluster",
                    path_, line)};
  tv.term = term;
  tv.vote = vote;
  return std::optional<TermAndVote>{tv};
}

Status<std::string> HardStateFile::store(const TermAndVote& tv) const {
  return replace(path_, fmt::format("cairn-hard-state 1 term={} vote={}\n", tv.term, tv.vote));
}

Result<std::optional<std::string>, std::string> HardStateFile::load_members() const {
  std::ifstream in(members_path_);
  if (!in) {
    if (!std::filesystem::exists(members_path_)) return std::optional<std::string>{};
    return Err{fmt::format("cannot read {}", members_path_)};
  }
  std::string line;
  std::getline(in, line);
  constexpr std::string_view kPrefix = "cairn-members 1 ";
  if (line.rfind(kPrefix, 0) != 0 || line.size() == kPrefix.size())
    return Err{fmt::format("{} is corrupt (\"{}\")", members_path_, line)};
  return std::optional<std::string>{line.substr(kPrefix.size())};
}

Status<std::string> HardStateFile::store_members(const std::string& members) const {
  return replace(members_path_, fmt::format("cairn-members 1 {}\n", members));
}

Result<bool, std::string> HardStateFile::load_recovering() const {
  std::error_code ec;
  const bool present = std::filesystem::exists(recovering_path_, ec);
  if (ec) return Err{fmt::format("cannot check {}: {}", recovering_path_, ec.message())};
  return present;
}

Status<std::string> HardStateFile::store_recovering(bool recovering) const {
  if (recovering) return replace(recovering_path_, "cairn-recovering 1\n");
  std::error_code ec;
  std::filesystem::remove(recovering_path_, ec);
  if (ec) return Err{fmt::format("cannot remove {}: {}", recovering_path_, ec.message())};
  return storage::sync_dir(dir_);
}

Status<std::string> HardStateFile::replace(const std::string& path, const std::string& data) const {
  return storage::replace_file(dir_, path, data);
}

}  // namespace cairn::node
