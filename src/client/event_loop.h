// EventLoop: one background I/O thread that runs connections' socket work and answers' callbacks.
// A Client owns one; tools that manage Connections themselves (cairn-bench) may own several.
//
// Threading: construct and destroy on any thread but never on the loop's own thread (from a
// callback). Destroy every Connection made on a loop before the loop itself.
#pragma once

#include <memory>

namespace cairn::client {

namespace detail {
struct LoopImpl;
}

class EventLoop {
 public:
  EventLoop();   // starts the thread
  ~EventLoop();  // stops the thread; callbacks not yet run are dropped
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  detail::LoopImpl& impl() { return *impl_; }

 private:
  std::unique_ptr<detail::LoopImpl> impl_;
};

}  // namespace cairn::client
