// A Redis-protocol client for the cluster tests: hiredis, held by unique_ptrs. Only with
// CAIRN_ITEST_HIREDIS (tests/integration/cluster/CMakeLists.txt finds the library).
#pragma once

#ifdef CAIRN_ITEST_HIREDIS
#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string_view>
#include <vector>

namespace cairn::itest {

struct ReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyFree>;

struct ContextFree {
  void operator()(redisContext* c) const { redisFree(c); }
};
using Context = std::unique_ptr<redisContext, ContextFree>;

inline timeval to_timeval(std::chrono::milliseconds d) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(d.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((d.count() % 1000) * 1000);
  return tv;
}

// A connection to 127.0.0.1:`port` whose connect and every command wait at most `timeout`, or
// nullptr if the node does not take one (it may be dead, or restarting and not listening yet).
inline Context connect_resp(uint16_t port, std::chrono::milliseconds timeout) {
  const timeval tv = to_timeval(timeout);
  Context c(redisConnectWithTimeout("127.0.0.1", port, tv));
  if (!c || c->err != 0 || redisSetTimeout(c.get(), tv) != REDIS_OK) return nullptr;
  return c;
}

// The reply, or nullptr after a connection error or timeout; the context is then unusable
// (hiredis cannot tell which bytes of a late answer belong to which request) and must be dropped.
inline Reply command(redisContext* c, std::initializer_list<std::string_view> args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (auto a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  return Reply(static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data())));
}

}  // namespace cairn::itest
#endif
