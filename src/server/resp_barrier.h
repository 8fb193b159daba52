// BarrierGroup: one node.read_barrier() for the read bursts of every connection that arrive in the
// same turn of the I/O loop. Each connection already shares one barrier among its own pipelined
// reads; with many clients sending one read at a time, this also shares it across connections,
// so the node thread handles one waiter and posts one answer back per turn instead of one per
// connection.
//
// Linearizability is kept: a burst joins only a barrier requested after the burst arrived (the
// group is flushed by a handler posted when its first member joined).
//
// Threading: join() from any thread; callbacks run on one of the I/O threads.
#pragma once

// A standard header before Asio's: Asio's config reads libstdc++'s macros (aligned allocation),
// and every translation unit must agree on them.
#include <cstddef>

#include <asio/io_context.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "node/node.h"

namespace cairn::server {

class BarrierGroup : public std::enable_shared_from_this<BarrierGroup> {
 public:
  using Waiter = std::function<void(const node::Outcome&)>;
  BarrierGroup(node::Node& node, asio::io_context& io) : node_(node), io_(io) {}

  void join(Waiter waiter);

 private:
  void flush();

  node::Node& node_;
  asio::io_context& io_;
  std::mutex mu_;
  std::vector<Waiter> waiting_;  // guarded by mu_
  bool flush_posted_ = false;    // guarded by mu_
};

}  // namespace cairn::server
