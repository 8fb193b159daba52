// BarrierGroup: see resp_barrier.h.
#include "server/resp_barrier.h"

#include <asio/post.hpp>

namespace cairn::server {

void BarrierGroup::join(Waiter waiter) {
  std::lock_guard lock(mu_);
  waiting_.push_back(std::move(waiter));
  if (flush_posted_) return;
  flush_posted_ = true;
  // Runs after the handlers already queued: the other connections' bursts of this turn join too.
  asio::post(io_, [self = shared_from_this()] { self->flush(); });
}

void BarrierGroup::flush() {
  auto group = std::make_shared<std::vector<Waiter>>();
  {
    std::lock_guard lock(mu_);
    group->swap(waiting_);
    flush_posted_ = false;
  }
  node_.read_barrier([self = shared_from_this(), group](node::Outcome o) {
    // One post back to the I/O threads; the waiters then post to their own strands locally.
    asio::post(self->io_, [group, o = std::move(o)] {
      for (const Waiter& w : *group)
        w(o);
    });
  });
}

}  // namespace cairn::server
