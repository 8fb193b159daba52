#include "client/event_loop.h"

#include "client/loop_impl.h"

namespace cairn::client {

EventLoop::EventLoop() : impl_(std::make_unique<detail::LoopImpl>()) {
  impl_->thread = std::thread([impl = impl_.get()] { impl->io.run(); });
}

EventLoop::~EventLoop() {
  // Work still queued (a backoff timer, a close) is abandoned: its handlers are destroyed with
  // the io_context, and the owners of those handlers complete their requests as closed.
  impl_->work.reset();
  impl_->io.stop();
  impl_->thread.join();
}

}  // namespace cairn::client
