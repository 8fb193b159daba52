#include "net/peer_lane.h"

#include <spdlog/spdlog.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

namespace cairn::net::detail {

PeerLane::PeerLane(asio::io_context& io, Options options)
    : strand_(asio::make_strand(io)),
      opt_(std::move(options)),
      socket_(strand_),
      wake_(strand_),
      timer_(strand_),
      rng_(std::random_device{}()),
      backoff_(opt_.backoff_initial) {}

void PeerLane::start() {
  asio::co_spawn(
      strand_, [self = shared_from_this()] { return self->sender(); }, asio::detached);
}

void PeerLane::stop() {
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
    drop_queue_locked();
  }
  asio::post(strand_, [self = shared_from_this()] {
    std::error_code ec;
    self->socket_.close(ec);
    self->wake_.cancel();
    self->timer_.cancel();
  });
}

bool PeerLane::offer(std::string frame) {
  std::lock_guard lock(mu_);
  const bool room = queue_.empty() || (queue_.size() < opt_.max_messages &&
                                       queued_bytes_ + frame.size() <= opt_.max_bytes);
  if (stopped_ || unreachable_ || !room) {
    ++stats_.dropped;
    return false;
  }
  queued_bytes_ += frame.size();
  queue_.push_back(std::move(frame));
  if (sender_idle_) {
    sender_idle_ = false;
    asio::post(strand_, [self = shared_from_this()] { self->wake_.cancel(); });
  }
  return true;
}

LaneStats PeerLane::stats() const {
  std::lock_guard lock(mu_);
  LaneStats s = stats_;
  s.queued_messages = queue_.size();
  s.queued_bytes = queued_bytes_;
  s.connected = connected_;
  return s;
}

void PeerLane::drop_queue_locked() {
  stats_.dropped += queue_.size();
  queue_.clear();
  queued_bytes_ = 0;
}

asio::awaitable<bool> PeerLane::connect() {
  std::error_code ec;
  socket_.close(ec);
  timer_.expires_after(opt_.connect_timeout);
  timer_.async_wait([this, self = shared_from_this()](std::error_code wait_ec) {
    if (!wait_ec) socket_.cancel();  // abort a connect that hangs
  });
  co_await socket_.async_connect(opt_.endpoint, asio::redirect_error(asio::use_awaitable, ec));
  timer_.cancel();
  std::lock_guard lock(mu_);
  if (ec || stopped_) {
    ++stats_.connect_failures;
    if (!stopped_) {
      spdlog::debug("{} lane to node {} at {}: connect failed: {}", opt_.lane_name, opt_.peer,
                    opt_.addr, ec ? ec.message() : "stopped");
    }
    socket_.close(ec);
    co_return false;
  }
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  ++stats_.connects;
  connected_ = true;
  backoff_ = opt_.backoff_initial;
  spdlog::debug("{} lane to node {} at {}: connected", opt_.lane_name, opt_.peer, opt_.addr);
  const uint64_t generation = ++generation_;
  asio::co_spawn(
      strand_, [self = shared_from_this(), generation] { return self->drain_reads(generation); },
      asio::detached);
  co_return true;
}

// Peers do not answer on these connections; reading only notices when the peer goes away.
asio::awaitable<void> PeerLane::drain_reads(uint64_t generation) {
  char buf[512];
  std::error_code ec;
  for (;;) {
    co_await socket_.async_read_some(asio::buffer(buf),
                                     asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
  }
  if (generation != generation_) co_return;  // the sender has already replaced this connection
  std::lock_guard lock(mu_);
  connected_ = false;
  socket_.close(ec);
}

asio::awaitable<void> PeerLane::back_off() {
  {
    std::lock_guard lock(mu_);
    unreachable_ = true;
    drop_queue_locked();
  }
  if (opt_.on_unreachable) opt_.on_unreachable(opt_.peer);
  // Sleep a random time in [backoff/2, backoff] so peers that failed together do not retry in
  // lockstep, then double the backoff up to its maximum.
  auto half = backoff_.count() / 2;
  std::uniform_int_distribution<long> jitter(half, backoff_.count());
  timer_.expires_after(std::chrono::milliseconds(jitter(rng_)));
  std::error_code ec;
  co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  backoff_ = std::min(backoff_ * 2, opt_.backoff_max);
  std::lock_guard lock(mu_);
  unreachable_ = false;
}

asio::awaitable<void> PeerLane::sender() {
  std::vector<std::string> batch;
  std::vector<asio::const_buffer> buffers;
  std::error_code ec;
  for (;;) {
    bool idle = false;
    {
      std::lock_guard lock(mu_);
      if (stopped_) break;
      idle = queue_.empty();
      sender_idle_ = idle;
    }
    if (idle) {
      // offer() posts wake_.cancel() to this strand, so it cannot run before this wait starts.
      wake_.expires_at(asio::steady_timer::time_point::max());
      co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    bool fresh = false;
    if (!socket_.is_open()) {
      if (!(co_await connect())) {
        co_await back_off();
        continue;
      }
      fresh = true;
    }
    if (fresh && opt_.hello) batch.push_back(opt_.hello());
    {
      std::lock_guard lock(mu_);
      size_t bytes = 0;
      while (!queue_.empty() &&
             (batch.empty() || bytes + queue_.front().size() <= opt_.max_batch_bytes)) {
        bytes += queue_.front().size();
        queued_bytes_ -= queue_.front().size();
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    for (const auto& f : batch)
      buffers.emplace_back(asio::buffer(f));
    co_await asio::async_write(socket_, buffers, asio::redirect_error(asio::use_awaitable, ec));
    {
      std::lock_guard lock(mu_);
      ++stats_.writes;
      if (ec) {
        stats_.dropped += batch.size();
        connected_ = false;
      } else {
        stats_.sent += batch.size();
      }
    }
    if (ec) {
      spdlog::debug("{} lane to node {} at {}: write failed: {}", opt_.lane_name, opt_.peer,
                    opt_.addr, ec.message());
      socket_.close(ec);
    }
    batch.clear();
    buffers.clear();
  }
  socket_.close(ec);
}

}  // namespace cairn::net::detail
