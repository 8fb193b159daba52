#include "harness.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

namespace cairn::itest {

const std::string& server_binary() {
  static const std::string path = CAIRN_SERVER_BINARY;
  return path;
}

uint16_t free_port() {
  static std::mutex mu;
  static std::set<uint16_t> given;
  static std::mt19937 rng(static_cast<unsigned>(getpid()) * 7919u +
                          static_cast<unsigned>(Clock::now().time_since_epoch().count()));
  std::lock_guard lock(mu);
  asio::io_context io;
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const auto port = static_cast<uint16_t>(20000 + rng() % 12000);
    if (given.count(port) != 0) continue;
    asio::ip::tcp::acceptor a(io);
    std::error_code ec;
    a.open(asio::ip::tcp::v4(), ec);
    a.bind({asio::ip::make_address("127.0.0.1"), port}, ec);
    if (!ec) {
      given.insert(port);
      return port;
    }
  }
  std::abort();
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "cairn-itest-XXXXXX").string();
  char* made = mkdtemp(tmpl.data());
  if (made == nullptr) std::abort();
  path_ = made;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

ServerProcess::ServerProcess(std::string binary, std::vector<std::string> args,
                             std::string log_path)
    : binary_(std::move(binary)), args_(std::move(args)), log_(std::move(log_path)) {}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

void ServerProcess::start() {
  std::vector<char*> argv;
  argv.push_back(binary_.data());
  for (auto& a : args_)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::execv(binary_.c_str(), argv.data());
    // Only async-signal-safe calls here (the parent may have threads): a fixed line, so that a
    // node that never ran does not leave an empty log and a wait that merely times out.
    static constexpr char kExecFailed[] = "cairn-itest: execv of the server binary failed\n";
    if (fd >= 0) {
      const ssize_t n = ::write(fd, kExecFailed, sizeof kExecFailed - 1);
      (void)n;
    }
    _exit(127);
  }
  if (pid < 0) {
    const int error = errno;
    std::ofstream(log_, std::ios::app)
        << "cairn-itest: fork failed: " << std::strerror(error) << "\n";
  }
  pid_ = pid;
}

void ServerProcess::signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

std::optional<int> ServerProcess::wait_exit(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return 0;
  const auto deadline = Clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
      return -1;
    }
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(5ms);
  }
}

std::string ServerProcess::log_tail(size_t bytes) const {
  std::ifstream in(log_);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > bytes ? s.substr(s.size() - bytes) : s;
}

LocalCluster::LocalCluster(ClusterOptions options) : options_(std::move(options)) {
  for (int i = 1; i <= options_.nodes; ++i) {
    ports_[static_cast<uint64_t>(i)] = free_port();
    resp_ports_[static_cast<uint64_t>(i)] = free_port();
  }
  for (const auto& [id, port] : ports_) {
    if (!peers_.empty()) peers_ += ",";
    peers_ += std::to_string(id) + "=127.0.0.1:" + std::to_string(port);
  }
  for (const auto& [id, port] : ports_) {
    std::string peers = peers_;
    if (options_.proxied) {
      // This node reaches every other node through its own proxy for that direction.
      peers.clear();
      for (const auto& [other, other_port] : ports_) {
        uint16_t via = other_port;
        if (other != id) {
          auto proxy = std::make_unique<FaultProxy>(free_port(), other_port);
          via = proxy->port();
          proxies_[{id, other}] = std::move(proxy);
        }
        if (!peers.empty()) peers += ",";
        peers += std::to_string(other) + "=127.0.0.1:" + std::to_string(via);
      }
    }
    args_[id] = args_for(id, "--peers=" + peers);
    // Through proxies every node sees the others at other addresses: name the cluster instead.
    if (options_.proxied) args_[id].push_back("--cluster-token=" + dir_.path());
    procs_[id] = std::make_unique<ServerProcess>(
        server_binary(), args_[id], dir_.path() + "/node-" + std::to_string(id) + ".log");
    procs_[id]->start();
  }
}

LocalCluster::~LocalCluster() {
  for (auto& [id, p] : procs_) {
    p->signal(SIGCONT);  // a stopped process cannot die of SIGKILL until continued on some kernels
    p->signal(SIGKILL);
    p->wait_exit(5s);
  }
  // A sanitizer report in a server's log fails the test that ran it (the sanitizer passes build
  // cairn-server instrumented too, and its reports would otherwise go unseen).
  for (const auto& entry : std::filesystem::directory_iterator(dir_.path())) {
    if (entry.path().extension() != ".log") continue;
    std::ifstream in(entry.path());
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    for (const char* marker : {"WARNING: ThreadSanitizer", "ERROR: AddressSanitizer",
                               "runtime error:", "ERROR: LeakSanitizer", "CHECK failed"}) {
      const size_t at = text.find(marker);
      if (at != std::string::npos)
        ADD_FAILURE() << entry.path().filename() << " reports " << marker << ":\n"
                      << text.substr(at, 4000);
    }
  }
}

std::string LocalCluster::data_dir(uint64_t id) const {
  return dir_.path() + "/data-" + std::to_string(id);
}

std::vector<std::string> LocalCluster::args_for(uint64_t id, const std::string& membership) const {
  std::vector<std::string> a = {
      "--id=" + std::to_string(id),
      "--listen=127.0.0.1:" + std::to_string(ports_.at(id)),
      "--resp=" + resp_addr(id),
      membership,
      "--data-dir=" + data_dir(id),
      "--tick-ms=" + std::to_string(options_.tick_ms),
      "--election-ticks=" + std::to_string(options_.election_ticks),
      "--snapshot-entries=" + std::to_string(options_.snapshot_entries),
      "--request-timeout-ms=" + std::to_string(options_.request_timeout_ms),
      "--storage=" + options_.storage,
      "--log-level=info"};
  a.insert(a.end(), options_.extra_args.begin(), options_.extra_args.end());
  return a;
}

std::vector<std::string> LocalCluster::addrs() const {
  std::vector<std::string> out;
  for (const auto& [id, p] : procs_)
    if (p->running()) out.push_back(addr(id));
  return out;
}

std::vector<uint64_t> LocalCluster::ids() const {
  std::vector<uint64_t> out;
  for (const auto& [id, p] : procs_)
    out.push_back(id);
  return out;
}

std::vector<uint64_t> LocalCluster::others(uint64_t id) const {
  std::vector<uint64_t> out;
  for (uint64_t x : ids())
    if (x != id) out.push_back(x);
  return out;
}

void LocalCluster::restart(uint64_t id) {
  procs_[id] =
      std::make_unique<ServerProcess>(server_binary(), args_.at(id), procs_.at(id)->log_path());
  procs_[id]->start();
}

void LocalCluster::start_joiner(uint64_t id, uint64_t via) {
  ports_[id] = free_port();
  resp_ports_[id] = free_port();
  args_[id] = args_for(id, "--join=" + addr(via));
  procs_[id] = std::make_unique<ServerProcess>(
      server_binary(), args_[id], dir_.path() + "/node-" + std::to_string(id) + ".log");
  procs_[id]->start();
}

std::optional<net::StatusResponse> LocalCluster::status(uint64_t id,
                                                        std::chrono::milliseconds timeout) {
  auto c = client_of(id, timeout);
  if (!c) return std::nullopt;
  auto s = c->status();
  if (!s.ok()) return std::nullopt;
  return *s;
}

uint64_t LocalCluster::wait_for_leader(std::chrono::milliseconds timeout,
                                       std::vector<uint64_t> among) {
  return wait_for_leadership(timeout, std::move(among)).id;
}

LocalCluster::Leadership LocalCluster::wait_for_leadership(std::chrono::milliseconds timeout,
                                                           std::vector<uint64_t> among,
                                                           uint64_t above_term) {
  if (among.empty())
    for (const auto& [id, p] : procs_)
      if (p->running()) among.push_back(id);
  Leadership found;
  eventually(
      [&] {
        uint64_t seen = 0;
        for (uint64_t id : among) {
          auto s = status(id, 300ms);
          if (!s || s->leader_id == 0 || (seen != 0 && s->leader_id != seen)) return false;
          seen = s->leader_id;
        }
        if (std::find(among.begin(), among.end(), seen) == among.end()) return false;
        auto ls = status(seen, 300ms);
        if (!ls || ls->role != "leader" || ls->term <= above_term) return false;
        found = {seen, ls->term};
        return true;
      },
      timeout);
  return found;
}

bool LocalCluster::eventually(const std::function<bool()>& pred,
                              std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    if (pred()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
}

std::unique_ptr<client::Client> LocalCluster::client(
    std::chrono::milliseconds request_timeout) const {
  client::Options o;
  o.seeds = addrs();
  o.request_timeout = request_timeout;
  o.connect_timeout = 500ms;
  o.max_retries = 20;
  auto c = client::Client::create(o);
  return c.ok() ? std::move(*c) : nullptr;
}

std::unique_ptr<client::Client> LocalCluster::client_of(
    uint64_t id, std::chrono::milliseconds request_timeout) const {
  client::Options o;
  o.seeds = {addr(id)};
  o.request_timeout = request_timeout;
  o.connect_timeout = std::min<std::chrono::milliseconds>(request_timeout, 500ms);
  o.max_retries = 0;
  auto c = client::Client::create(o);
  return c.ok() ? std::move(*c) : nullptr;
}

void LocalCluster::cut(uint64_t from, uint64_t to, bool cut) {
  proxies_.at({from, to})->set_cut(cut);
}

void LocalCluster::partition(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b) {
  for (uint64_t x : a)
    for (uint64_t y : b) {
      cut(x, y);
      cut(y, x);
    }
}

void LocalCluster::heal() {
  for (auto& [pair, proxy] : proxies_)
    proxy->set_cut(false);
}

std::string write_and_read_through(LocalCluster& cluster, uint64_t id, const std::string& key) {
  auto c = cluster.client_of(id, 5s);
  if (!c) return "no client for node " + std::to_string(id);
  const std::string value = "written through node " + std::to_string(id);
  if (auto st = c->set(key, value); !st.ok())
    return "node " + std::to_string(id) + ": write: " + st.error().to_string();
  auto v = c->get(key);
  if (!v.ok()) return "node " + std::to_string(id) + ": read: " + v.error().to_string();
  if (v->value_or("<missing>") != value)
    return "node " + std::to_string(id) + ": read " + v->value_or("<missing>");
  return {};
}

std::string LocalCluster::logs() const {
  std::string out;
  for (const auto& [id, p] : procs_) {
    out += "---- node " + std::to_string(id) + " ----\n" + p->log_tail() + "\n";
    // A node that died on its own, perhaps before it wrote a line (127: the binary could not be
    // run), says so here; one the test killed and reaped is not reported again.
    if (!p->running()) continue;
    if (auto code = p->wait_exit(0ms))
      out += "(node " + std::to_string(id) + " has exited, status " + std::to_string(*code) + ")\n";
  }
  return out;
}

void write_keys(client::Client& c, const std::string& prefix, int n) {
  for (int i = 0; i < n; ++i) {
    auto st = c.set(prefix + std::to_string(i), "v" + std::to_string(i));
    ASSERT_TRUE(st.ok()) << st.error().to_string();
  }
}

void expect_keys(client::Client& c, const std::string& prefix, int n) {
  for (int i = 0; i < n; ++i) {
    auto v = c.get(prefix + std::to_string(i));
    ASSERT_TRUE(v.ok()) << v.error().to_string();
    ASSERT_TRUE(v->has_value()) << prefix << i << " was acknowledged and is lost";
    EXPECT_EQ(**v, "v" + std::to_string(i));
  }
}

std::pair<std::string, int> run_command(const std::string& cmd) {
  std::string out;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return {"popen failed", -1};
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p))
    out.append(buf, n);
  const int rc = pclose(p);
  return {out, WIFEXITED(rc) ? WEXITSTATUS(rc) : -1};
}

}  // namespace cairn::itest
