// RespSession I/O: the reader coroutine parses everything one read brought in, then sends the
// answers that are ready with one non-blocking write; the writer coroutine sends what the socket
// did not take and answers that complete later, coalescing everything queued meanwhile.
#include "server/resp_session.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "net/address.h"

namespace cairn::server {
namespace {

constexpr size_t kReadChunk = 64 * 1024;
// A large value is read in chunks up to this size, never sized from the client's claim alone.
constexpr size_t kMaxReadChunk = 4 * 1024 * 1024;

resp::ParserLimits limits_for(const node::Node& node) {
  resp::ParserLimits l;
  l.max_bulk_len = node.engine().config().max_value_bytes;
  return l;
}

}  // namespace

StoredArgs::StoredArgs(Argv argv) {
  size_t total = 0;
  for (auto a : argv)
    total += a.size();
  bytes_.reserve(total);
  ends_.reserve(argv.size());
  for (auto a : argv) {
    bytes_.append(a);
    ends_.push_back(static_cast<uint32_t>(bytes_.size()));
  }
}

std::vector<std::string_view> StoredArgs::views() const {
  std::vector<std::string_view> v;
  v.reserve(ends_.size());
  uint32_t begin = 0;
  for (uint32_t end : ends_) {
    v.emplace_back(bytes_.data() + begin, end - begin);
    begin = end;
  }
  return v;
}

RespSession::RespSession(asio::ip::tcp::socket socket, std::shared_ptr<RespContext> ctx,
                         uint64_t id, std::function<void(uint64_t)> on_closed)
    : socket_(std::move(socket)),
      ctx_(std::move(ctx)),
      id_(id),
      on_closed_(std::move(on_closed)),
      writer_wake_(socket_.get_executor()),
      reader_wake_(socket_.get_executor()),
      drain_deadline_(socket_.get_executor()),
      parser_(limits_for(ctx_->node)) {
  std::error_code ec;
  auto ep = socket_.remote_endpoint(ec);
  peer_ = ec ? std::string("?:0") : net::to_string(ep);
  auto lep = socket_.local_endpoint(ec);
  local_ = ec ? std::string("?:0") : net::to_string(lep);
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  socket_.non_blocking(true, ec);  // so flush() never blocks an I/O thread
}

void RespSession::start() {
  auto self = shared_from_this();
  asio::co_spawn(
      socket_.get_executor(), [self] { return self->read_loop(); }, asio::detached);
  asio::co_spawn(
      socket_.get_executor(), [self] { return self->write_loop(); }, asio::detached);
}

void RespSession::stop() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    if (self->stopping_ || self->closed_) return;
    self->stopping_ = true;
    std::error_code ec;
    if (!self->writing_now_) self->socket_.cancel(ec);  // else the writer cancels the read
    self->reader_wake_.cancel();
    self->start_drain_deadline();
  });
}

void RespSession::start_drain_deadline() {
  drain_deadline_.expires_after(ctx_->config.drain_timeout);
  drain_deadline_.async_wait([self = shared_from_this()](std::error_code ec) {
    if (!ec) self->close_now("drain timeout");
  });
}

bool RespSession::over_limits() const {
  return slots_.size() >= ctx_->config.max_in_flight ||
         out_.size() >= ctx_->config.max_pending_output;
}

bool RespSession::finished() const {
  return reading_done_ && slots_.empty() && blocked_.empty() && open_batch_.empty() && out_.empty();
}

void RespSession::flush() {
  // Answers that completed may have taken the connection back under its limits.
  if (reader_waiting_ && !over_limits()) reader_wake_.cancel();
  if (out_.empty() || writing_now_ || closed_) {
    if (finished()) writer_wake_.cancel();
    return;
  }
  std::error_code ec;
  const size_t n = socket_.write_some(asio::buffer(out_), ec);
  if (!ec) {
    ctx_->counters.bytes_out.fetch_add(n, std::memory_order_relaxed);
    out_.erase(0, n);
  }
  if (!out_.empty() || finished()) writer_wake_.cancel();
}

void RespSession::close_now(const char* why) {
  if (closed_) return;
  closed_ = true;
  spdlog::debug("resp connection {} from {} closed: {}", id_, peer_, why);
  std::error_code ec;
  socket_.close(ec);
  writer_wake_.cancel();
  reader_wake_.cancel();
  drain_deadline_.cancel();
}

void RespSession::process_input() {
  while (!closing_ && !closed_) {
    std::string_view buf(in_.data() + in_begin_, in_end_ - in_begin_);
    auto r = parser_.parse(buf);
    if (r.status == resp::ParseStatus::kComplete) {
      // Drop the bytes only after the request is handled: its arguments point into them.
      handle_request(parser_.args());
      in_begin_ += r.consumed;
      continue;
    }
    in_begin_ += r.consumed;
    if (r.status == resp::ParseStatus::kNeedMore) break;
    // As Redis: answer the error, then close once everything before it is answered.
    ctx_->counters.protocol_errors.fetch_add(1, std::memory_order_relaxed);
    resp::ReplyWriter(immediate_target(), proto_).error(parser_.error());
    closing_ = true;
  }
  if (in_begin_ == in_end_) in_begin_ = in_end_ = 0;
}

asio::awaitable<void> RespSession::read_loop() {
  std::error_code ec;
  while (!closed_ && !stopping_ && !closing_) {
    while (over_limits() && !closed_ && !stopping_) {
      writer_wake_.cancel();
      reader_wake_.expires_at(asio::steady_timer::time_point::max());
      reader_waiting_ = true;
      co_await reader_wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      reader_waiting_ = false;
    }
    if (closed_ || stopping_) break;
    // Room for the next read: keep unparsed bytes at the front, grow for a large bulk.
    if (in_begin_ > 0) {
      std::copy(in_.begin() + static_cast<ptrdiff_t>(in_begin_),
                in_.begin() + static_cast<ptrdiff_t>(in_end_), in_.begin());
      in_end_ -= in_begin_;
      in_begin_ = 0;
    }
    // A large bulk is read in growing chunks: at most twice what has arrived so far, never sized
    // from the announced length alone (a client announcing 512 MB and sending one byte costs a
    // read chunk, not 4 MiB; a thousand of them cost no gigabytes).
    const uint64_t pending = parser_.pending_bulk_bytes();
    const uint64_t grown = std::max<uint64_t>(kReadChunk, 2 * uint64_t{in_end_});
    const size_t want = std::clamp<size_t>(
        static_cast<size_t>(std::min<uint64_t>({pending + 2, grown, kMaxReadChunk})), kReadChunk,
        kMaxReadChunk);
    if (in_.size() < in_end_ + want) in_.resize(in_end_ + want);
    const size_t n =
        co_await socket_.async_read_some(asio::buffer(in_.data() + in_end_, in_.size() - in_end_),
                                         asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    in_end_ += n;
    ctx_->counters.bytes_in.fetch_add(n, std::memory_order_relaxed);
    process_input();
    // A buffer grown for a large value is given back once that value has been handled.
    if (in_begin_ == in_end_ && in_.size() > 2 * kMaxReadChunk) std::vector<char>().swap(in_);
    close_batch();
    flush();
  }
  reading_done_ = true;
  writer_wake_.cancel();
}

asio::awaitable<void> RespSession::write_loop() {
  auto self = shared_from_this();  // keeps the session alive until the writer is done
  std::error_code ec;
  for (;;) {
    if (closed_) break;
    if (out_.empty()) {
      if (finished()) break;
      writer_wake_.expires_at(asio::steady_timer::time_point::max());
      co_await writer_wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    std::swap(out_, writing_);
    writing_now_ = true;
    const size_t n = co_await asio::async_write(socket_, asio::buffer(writing_),
                                                asio::redirect_error(asio::use_awaitable, ec));
    writing_now_ = false;
    ctx_->counters.bytes_out.fetch_add(n, std::memory_order_relaxed);
    writing_.clear();
    if (ec) {
      close_now("write failed");
      break;
    }
    if (stopping_ && !reading_done_) socket_.cancel(ec);  // see stop()
    if (!over_limits()) reader_wake_.cancel();
  }
  close_now("done");
  // Answers still owed (the peer left first) arrive later and find the session closed.
  ctx_->counters.connected.fetch_sub(1, std::memory_order_relaxed);
  on_closed_(id_);
}

}  // namespace cairn::server
