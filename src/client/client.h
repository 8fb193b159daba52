// cairn::client::Client: the C++ client of a cairn cluster over the native protocol.
//
//   cairn::client::Options opts;
//   opts.seeds = {"10.0.0.1:9000", "10.0.0.2:9000"};
//   auto client = cairn::client::Client::create(opts);      // Result<unique_ptr<Client>>
//   if (auto st = (*client)->set("k", "v", 10s); !st.ok()) std::cerr << st.error().to_string();
//   auto v = (*client)->get("k");                           // Result<optional<string>>
//
// Routing: requests go to the last known leader, else to a seed (any node accepts any request
// and forwards writes). Retries, all bounded by max_retries and the request timeout:
//  * "not leader" with a leader_hint: resent at once to that node, its address taken from the
//    cluster's member list (fetched with a StatusRequest, cached, refreshed when a hint is new);
//  * "no leader", "busy", "shutting down" (never executed): resent after an exponential backoff,
//    "shutting down" to another node;
//  * a node that cannot be reached (the request was never sent): the next seed is tried;
//  * an unknown outcome (no answer within attempt_timeout, connection lost after sending,
//    "dropped"): reads are resent, and so are writes, which travel in the client's session: the
//    client opens one with the cluster before its first write and numbers its writes within it,
//    and the cluster applies each number at most once and answers a repeat with the first answer
//    (docs/protocol.md, "Client sessions"). With Options::sessions off, a write whose outcome is
//    unknown fails with outcome_unknown() set instead, since resending could apply it twice.
//
// Threading: every method is thread-safe. The synchronous calls block the calling thread and must
// not be made from a submit() callback, which runs on the client's I/O thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/error.h"
#include "net/messages.h"

namespace cairn::client {

struct Options {
  std::vector<std::string> seeds{"127.0.0.1:9000"};  // "host:port" of some of the nodes
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds request_timeout{5000};  // per call, retries included
  size_t connections_per_node = 1;                  // requests are spread over them
  // One send's wait for an answer before it is resent (to another node) when resending is safe:
  // reads and session writes. Other requests wait for the whole request_timeout.
  std::chrono::milliseconds attempt_timeout{1500};
  bool sessions = true;  // exactly-once writes, resent when their outcome is unknown
  int max_retries = 5;   // resends after the first attempt
  std::chrono::milliseconds backoff{20};  // first pause; doubles, with jitter
  std::chrono::milliseconds max_backoff{1000};
};

using Bytes = std::string;
using Ttl = std::optional<std::chrono::milliseconds>;

class Client {
 public:
  // Checks the options (at least one seed, every address HOST:PORT, positive timeouts); connects
  // lazily, on the first request.
  static Result<std::unique_ptr<Client>> create(Options options);
  ~Client();  // fails outstanding requests with kClosed
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Reads. `stale` serves the value from the answering node's state at once (may miss recent
  // writes); otherwise the read is linearizable.
  Result<std::optional<Bytes>> get(const Bytes& key, bool stale = false);
  Result<bool> exists(const Bytes& key);
  // Milliseconds left; -1: no expiry; -2: no such key.
  Result<int64_t> ttl(const Bytes& key);

  // Writes.
  Status set(const Bytes& key, const Bytes& value, Ttl ttl = std::nullopt);
  Result<bool> del(const Bytes& key);  // true if the key existed
  Result<int64_t> incr(const Bytes& key, int64_t delta = 1);
  // Sets `value` only if the key holds exactly `expected`; true if it did.
  Result<bool> cas(const Bytes& key, const Bytes& expected, const Bytes& value,
                   Ttl ttl = std::nullopt);
  Result<bool> expire(const Bytes& key, std::chrono::milliseconds ttl);
  Result<bool> persist(const Bytes& key);
  Result<uint64_t> append(const Bytes& key, const Bytes& value);  // the new length
  Result<std::optional<Bytes>> getdel(const Bytes& key);
  Status clear();

  // Cluster.
  Result<net::StatusResponse> status();  // of whichever node answers
  Status add_node(net::NodeId id, const std::string& addr);
  Status remove_node(net::NodeId id);
  Status transfer_leader(net::NodeId id);

  // Asynchronous form of any command, for pipelining: the reply's value (decimal text for
  // integer results). `done` runs on the client's I/O thread and must not block.
  using Reply = Result<std::optional<Bytes>>;
  void submit(net::CacheCommand command, std::function<void(Reply)> done);
  std::future<Reply> submit(net::CacheCommand command);

 private:
  struct Impl;
  explicit Client(Options options);
  void run(net::Message request, bool idempotent, std::function<void(Result<net::Message>)> done);
  Result<net::Message> call(net::Message request, bool idempotent);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::client
