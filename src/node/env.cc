#include "node/env.h"

#include <sys/resource.h>
#include <unistd.h>

#include <asio/post.hpp>

#include "node/join.h"

namespace cairn::node {
namespace {

constexpr int kBackgroundNice = 10;

class ThreadWork final : public BackgroundWork {
 public:
  explicit ThreadWork(std::function<void()> work)
      : thread_([work = std::move(work)] {
          // Linux gives each thread its own nice value: the work only takes longer.
          (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), kBackgroundNice);
          work();
        }) {}
  ~ThreadWork() override { thread_.join(); }

 private:
  std::thread thread_;
};

}  // namespace

std::unique_ptr<BackgroundWork> run_on_thread(std::function<void()> work) {
  return std::make_unique<ThreadWork>(std::move(work));
}

int64_t ThreadEnv::wall_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void ThreadEnv::start_ticks(Clock::duration every, std::function<void()> tick) {
  every_ = every;
  tick_ = std::move(tick);
  ticking_ = true;
  schedule_tick();
}

void ThreadEnv::schedule_tick() {
  ticker_.expires_after(every_);
  ticker_.async_wait([this](std::error_code ec) {
    if (ec) return;  // cancelled: stop_ticks()
    tick_();
    // The tick may have stopped the ticker (the node shutting down), when no wait was pending
    // for cancel() to stop.
    if (ticking_) schedule_tick();
  });
}

void ThreadEnv::stop_ticks() {
  ticking_ = false;
  ticker_.cancel();
}

std::unique_ptr<net::PeerTransport> ThreadEnv::make_transport(net::TransportConfig config) {
  return std::make_unique<net::RaftTransport>(std::move(config));
}

ThreadEnv::~ThreadEnv() {
  wait();
  // An admission under way ends within its timeout; its answer, posted to a queue that no longer
  // runs, is dropped with it.
  if (admission_.joinable()) admission_.join();
}

void ThreadEnv::request_admission(const std::string& member, net::NodeId id,
                                  const std::string& self_addr, std::chrono::milliseconds timeout,
                                  Admitted done) {
  if (admission_.joinable()) admission_.join();  // the last one has answered already
  admission_ = std::thread([this, member, id, self_addr, timeout, done = std::move(done)] {
    auto answer = node::request_admission(member, id, self_addr, timeout);
    asio::post(io_, [done, answer = std::move(answer)] { done(answer); });
  });
}

void ThreadEnv::run() {
  thread_ = std::thread([this] { io_.run(); });
}

void ThreadEnv::wait() {
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

}  // namespace cairn::node
