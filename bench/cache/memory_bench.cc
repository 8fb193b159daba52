// Memory per key: 1M keys of 16 bytes with 32-byte values, in the engine (for each policy) and in
// a redis-server started for the occasion, measured in the same run. Prints a Markdown table.
//
// Engine figures: the engine's own accounting (used_memory), what glibc malloc really holds for
// it (mallinfo2: in-use heap plus mmapped blocks), and resident memory; all as deltas over the
// empty engine. Redis: INFO memory's used_memory minus used_memory_startup (the figure Redis
// itself attributes to data), and used_memory_rss growth.
//
// The Redis server: `redis-server --port <free port> --bind 127.0.0.1 --save '' --appendonly no`,
// filled with `redis-cli --pipe`, stopped by its PID. Skipped with a note if it is not installed.
//
// Usage: cache_memory_bench [keys (default 1000000)]
#include <malloc.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include "cache/engine.h"
#include "traces.h"

using namespace cairn::cache;         // NOLINT
using namespace cairn::cache::bench;  // NOLINT

namespace {

uint64_t heap_in_use() {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

uint64_t rss_bytes() {
  std::ifstream f("/proc/self/statm");
  uint64_t size = 0;
  uint64_t resident = 0;
  f >> size >> resident;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

void engine_row(EvictionPolicy policy, uint64_t n) {
  malloc_trim(0);
  const uint64_t heap0 = heap_in_use();
  const uint64_t rss0 = rss_bytes();
  {
    Config cfg;
    cfg.policy = policy;
    Engine engine(cfg);
    const uint64_t used0 = engine.used_memory();
    const std::string value(32, 'v');
    for (uint64_t i = 0; i < n; ++i) {
      Put p;
      p.key = key_of(i);
      p.value = value;
      (void)engine.apply(p, 1700000000000);
    }
    const auto keys = static_cast<double>(n);
    std::printf("| cairn (%s) | %.1f | %.1f | %.1f |\n", std::string(policy_name(policy)).c_str(),
                static_cast<double>(engine.used_memory() - used0) / keys,
                static_cast<double>(heap_in_use() - heap0) / keys,
                static_cast<double>(rss_bytes() - rss0) / keys);
    std::fflush(stdout);
  }
}

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return -1;
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0)
    out.append(buf, n);
  pclose(p);
  return out;
}

std::map<std::string, uint64_t> info_memory(int port) {
  std::map<std::string, uint64_t> m;
  std::string text = run("redis-cli -p " + std::to_string(port) + " INFO memory");
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string line = text.substr(pos, eol - pos);
    size_t colon = line.find(':');
    if (colon != std::string::npos)
      m[line.substr(0, colon)] = std::strtoull(line.c_str() + colon + 1, nullptr, 10);
    pos = eol + 1;
  }
  return m;
}

void redis_row(uint64_t n) {
  const int port = free_port();
  const std::string p = std::to_string(port);
  pid_t pid = fork();
  if (pid == 0) {
    FILE* devnull = std::fopen("/dev/null", "w");
    if (devnull != nullptr) {
      dup2(fileno(devnull), STDOUT_FILENO);
      dup2(fileno(devnull), STDERR_FILENO);
    }
    execlp("redis-server", "redis-server", "--port", p.c_str(), "--bind", "127.0.0.1", "--save", "",
           "--appendonly", "no", "--loglevel", "warning", static_cast<char*>(nullptr));
    _exit(127);
  }
  bool up = false;
  for (int i = 0; i < 100 && !up; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // waiting for a process to start
    up = run("redis-cli -p " + p + " PING 2>/dev/null").find("PONG") != std::string::npos;
  }
  if (!up) {
    std::printf("| redis-server | (could not start: is it installed?) | | |\n");
    kill(pid, SIGTERM);
    waitpid(pid, nullptr, 0);
    return;
  }
  auto before = info_memory(port);
  FILE* pipe = popen(("redis-cli -p " + p + " --pipe > /dev/null").c_str(), "w");
  const std::string value(32, 'v');
  for (uint64_t i = 0; i < n; ++i) {
    std::fprintf(pipe, "*3\r\n$3\r\nSET\r\n$16\r\n%s\r\n$32\r\n%s\r\n", key_of(i).c_str(),
                 value.c_str());
  }
  pclose(pipe);
  auto after = info_memory(port);
  const std::string version = run("redis-server --version");
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  const auto keys = static_cast<double>(n);
  std::printf("| redis-server %s | %.1f | (jemalloc) | %.1f |\n",
              version
                  .substr(version.find("v=") + 2,
                          version.find(' ', version.find("v=")) - version.find("v=") - 2)
                  .c_str(),
              static_cast<double>(after["used_memory"] - before["used_memory_startup"]) / keys,
              static_cast<double>(after["used_memory_rss"] - before["used_memory_rss"]) / keys);
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  std::printf("Memory per key, %llu keys, 16-byte keys and 32-byte values\n\n",
              static_cast<unsigned long long>(n));
  std::printf("| store | bytes/key (own accounting) | bytes/key (allocator) | RSS growth/key |\n");
  std::printf("|---|---|---|---|\n");
  for (auto policy : {EvictionPolicy::kNoEviction, EvictionPolicy::kAllKeysLru,
                      EvictionPolicy::kSieve, EvictionPolicy::kS3Fifo}) {
    engine_row(policy, n);
  }
  redis_row(n);
  return 0;
}
