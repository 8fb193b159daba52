// Private: the Asio state behind EventLoop, kept out of the public headers so that consumers of
// the library need neither Asio nor its compile definitions.
#pragma once

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <thread>

#include "client/event_loop.h"

namespace cairn::client::detail {

struct LoopImpl {
  asio::io_context io{1};  // one thread runs it: handlers never run concurrently
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  std::thread thread;
};

}  // namespace cairn::client::detail
