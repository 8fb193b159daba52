// Client buffer limits of the Redis front end, with Redis's CONFIG names and semantics:
//
//  * client-query-buffer-limit (default 1gb, at least 1mb): a client whose unparsed input (a
//    request still arriving, e.g. a large bulk string) exceeds it is closed;
//  * client-output-buffer-limit <class> <hard> <soft> <soft seconds> (default
//    "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"): a client whose
//    unsent answers reach the hard limit, or stay at or above the soft limit for more than the
//    soft seconds, is closed. 0 disables a limit. Every cairn client is of the normal class (there
//    are no replicas or subscribers on the Redis port); the other classes are kept for CONFIG.
//
// CONFIG SET changes them at run time for every connection of this node (not replicated, not
// kept over a restart), and CONFIG GET shows them in Redis's format.
//
// Threading: ClientLimits is read by every I/O thread and set from any; each value is an atomic
// (a reader may see a CONFIG SET of several values half applied, for one request).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace cairn::server {

struct OutputBufferLimit {
  uint64_t hard = 0;  // bytes; 0: none
  uint64_t soft = 0;  // bytes; 0: none
  int64_t soft_seconds = 0;
  bool operator==(const OutputBufferLimit&) const = default;
};

// Indexes of OutputBufferLimits, in the order CONFIG GET lists them.
enum class ClientClass : uint8_t { kNormal = 0, kSlave = 1, kPubsub = 2 };

using OutputBufferLimits = std::array<OutputBufferLimit, 3>;

inline constexpr uint64_t kDefaultQueryBufferLimit = uint64_t{1} << 30;  // Redis: 1gb
inline constexpr uint64_t kMinQueryBufferLimit = uint64_t{1} << 20;      // Redis: 1mb
inline constexpr OutputBufferLimits kDefaultOutputBufferLimits = {{
    {0, 0, 0},
    {256ull << 20, 64ull << 20, 60},
    {32ull << 20, 8ull << 20, 60},
}};

// Redis's memtoull: digits then an optional unit (b, k = 1000, kb = 1024, m, mb, g, gb; any case).
// Like Redis, no digits mean 0 ("mb" is 0), a number too large saturates and the unit's product
// wraps; nullopt for a sign, spaces or an unknown unit.
std::optional<uint64_t> parse_memory(std::string_view s);

// "normal <hard> <soft> <seconds> slave ... pubsub ...", as CONFIG GET shows it.
std::string format_output_limits(const OutputBufferLimits& limits);

// Applies a CONFIG SET value ("<class> <hard> <soft> <seconds>" repeated, words separated by
// single spaces, as Redis splits it) to `limits`: all of it or, on error, nothing. Returns Redis's
// error text (without "ERR CONFIG SET failed ..."), empty on success.
std::string parse_output_limits(std::string_view value, OutputBufferLimits& limits);

class ClientLimits {
 public:
  ClientLimits(uint64_t query_buffer_limit, const OutputBufferLimits& output);

  uint64_t query_buffer_limit() const { return query_.load(std::memory_order_relaxed); }
  OutputBufferLimit output(ClientClass c) const;
  OutputBufferLimits output_all() const;

  void set_query_buffer_limit(uint64_t v) { query_.store(v, std::memory_order_relaxed); }
  void set_output(const OutputBufferLimits& limits);

 private:
  struct Atomic {
    std::atomic<uint64_t> hard{0}, soft{0};
    std::atomic<int64_t> seconds{0};
  };
  std::atomic<uint64_t> query_;
  std::array<Atomic, 3> output_;
};

// CONFIG SET name value [name value ...] (argv from "CONFIG"), as Redis 7.0's configSetCommand:
// every name is checked before anything is set, and a value that fails sets nothing. `settable`
// is what cairn may change at run time (the buffer limits); `fixed` names parameters CONFIG GET
// shows that are set at start (they answer "can't set immutable config"). Returns the error reply
// text ("ERR ..."), empty when every value was applied.
std::string config_set(std::span<const std::string_view> argv, ClientLimits& limits,
                       std::span<const std::string> fixed);

}  // namespace cairn::server
