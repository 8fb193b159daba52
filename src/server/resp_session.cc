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
#include <cstring>

#include "net/address.h"

namespace cairn::server {
namespace {

constexpr size_t kReadChunk = 64 * 1024;
// Output buffers bigger than this are given back when the connection waits for input.
constexpr size_t kKeepOutput = 1024;
// Redis's PROTO_REPLY_CHUNK_BYTES: answers within it do not count toward output buffer limits.
constexpr uint64_t kStaticReplyBuffer = 16 * 1024;
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
         unsent_bytes() >= ctx_->config.max_pending_output;
}

bool RespSession::output_limit_reached() {
  const OutputBufferLimit lim = ctx_->limits.output(ClientClass::kNormal);
  if (lim.hard == 0 && lim.soft == 0) return false;
  // As Redis, which counts only the reply list behind its 16 KiB static reply buffer.
  const uint64_t unsent = unsent_bytes();
  const uint64_t used = unsent > kStaticReplyBuffer ? unsent - kStaticReplyBuffer : 0;
  if (lim.hard != 0 && used >= lim.hard) return true;
  if (lim.soft != 0 && used >= lim.soft) {
    const auto now = std::chrono::steady_clock::now();
    if (!soft_reached_) {
      soft_reached_ = true;
      soft_since_ = now;
      return false;
    }
    // Whole seconds, strictly more than the limit's, as Redis counts them.
    return std::chrono::duration_cast<std::chrono::seconds>(now - soft_since_).count() >
           lim.soft_seconds;
  }
  soft_reached_ = false;
  return false;
}

std::chrono::steady_clock::time_point RespSession::soft_limit_deadline() const {
  const OutputBufferLimit lim = ctx_->limits.output(ClientClass::kNormal);
  if (!soft_reached_ || lim.soft == 0) return std::chrono::steady_clock::time_point::max();
  return soft_since_ + std::chrono::seconds(lim.soft_seconds + 1) + std::chrono::milliseconds(10);
}

void RespSession::close_for_limit(bool output) {
  if (closed_) return;
  auto& counter = output ? ctx_->counters.output_buffer_limit_disconnections
                         : ctx_->counters.query_buffer_limit_disconnections;
  counter.fetch_add(1, std::memory_order_relaxed);
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now().time_since_epoch())
                             .count();
  int64_t last = ctx_->limit_logged_ms.load(std::memory_order_relaxed);
  if (now_ms - last >= 1000 &&
      ctx_->limit_logged_ms.compare_exchange_strong(last, now_ms, std::memory_order_relaxed)) {
    if (output)
      spdlog::warn(
          "closing Redis client {} from {}: {} bytes of answers unsent, over "
          "client-output-buffer-limit (at most one such line a second)",
          id_, peer_, unsent_bytes());
    else
      spdlog::warn(
          "closing Redis client {} from {}: {} bytes of query buffered, over "
          "client-query-buffer-limit (at most one such line a second)",
          id_, peer_, in_end_ - in_begin_);
  }
  close_now(output ? "client-output-buffer-limit" : "client-query-buffer-limit");
}

bool RespSession::finished() const {
  return reading_done_ && slots_.empty() && blocked_.empty() && open_batch_.empty() &&
         ready_reads_.empty() && out_.empty();
}

void RespSession::flush() {
  if (closed_) return;
  if (output_limit_reached()) return close_for_limit(true);
  // Answers that completed may have taken the connection back under its limits.
  if (reader_waiting_ && !over_limits()) reader_wake_.cancel();
  if (out_.empty() || writing_now_) {
    if (finished() || (!writing_now_ && !ready_reads_.empty())) writer_wake_.cancel();
    return;
  }
  std::error_code ec;
  const size_t n = socket_.write_some(asio::buffer(out_), ec);
  if (!ec) {
    ctx_->counters.bytes_out.fetch_add(n, std::memory_order_relaxed);
    out_.erase(0, n);
  }
  if (!out_.empty() || finished() || !ready_reads_.empty()) writer_wake_.cancel();
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

size_t RespSession::parse_requests(std::string_view buf) {
  size_t done = 0;
  while (!closing_ && !closed_) {
    if (over_limits()) {
      // Within one read too: the rest of the burst waits until the answers drain.
      input_stalled_ = true;
      break;
    }
    auto r = parser_.parse(buf.substr(done));
    if (r.status == resp::ParseStatus::kComplete) {
      // Drop the bytes only after the request is handled: its arguments point into them.
      handle_request(parser_.args());
      done += r.consumed;
      if (output_limit_reached()) close_for_limit(true);
      continue;
    }
    done += r.consumed;
    if (r.status == resp::ParseStatus::kNeedMore) break;
    // As Redis: answer the error, then close once everything before it is answered.
    ctx_->counters.protocol_errors.fetch_add(1, std::memory_order_relaxed);
    resp::ReplyWriter(immediate_target(), proto_).error(parser_.error());
    closing_ = true;
  }
  return done;
}

void RespSession::process_buffered() {
  in_begin_ += parse_requests(std::string_view(in_.data() + in_begin_, in_end_ - in_begin_));
  if (in_begin_ == in_end_) in_begin_ = in_end_ = 0;
}

void RespSession::reserve_input(size_t bytes) {
  const size_t unparsed = in_end_ - in_begin_;
  if (in_begin_ > 0) {
    std::memmove(in_.data(), in_.data() + in_begin_, unparsed);
    in_begin_ = 0;
    in_end_ = unparsed;
  }
  in_.grow(bytes, unparsed);
}

void RespSession::keep_input(std::string_view rest) {
  if (rest.empty()) return;
  reserve_input(std::max(kReadChunk, rest.size()));
  std::memcpy(in_.data(), rest.data(), rest.size());
  in_begin_ = 0;
  in_end_ = rest.size();
}

void RespSession::release_idle_buffers() {
  if (in_end_ == 0 && in_.capacity() > 0) in_.reset();
  if (out_.empty() && out_.capacity() > kKeepOutput) std::string().swap(out_);
  if (!writing_now_ && writing_.capacity() > kKeepOutput) std::string().swap(writing_);
}

asio::awaitable<void> RespSession::read_loop() {
  std::error_code ec;
  while (!closed_ && !stopping_ && !closing_) {
    while (over_limits() && !closed_ && !stopping_) {
      writer_wake_.cancel();
      // Paused with the soft output limit reached: wake when its seconds are up, as a client
      // that keeps sending would find them up at its next answer in Redis.
      reader_wake_.expires_at(soft_limit_deadline());
      reader_waiting_ = true;
      co_await reader_wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      reader_waiting_ = false;
      if (!ec && !closed_ && output_limit_reached()) close_for_limit(true);
    }
    if (closed_ || stopping_) break;
    if (input_stalled_) {
      // Requests a past read brought in, held back until the answers drained.
      input_stalled_ = false;
      process_buffered();
    } else if (in_end_ > 0) {
      // An incomplete request: read its rest into in_, keeping the unparsed bytes at the front. A
      // large bulk is read in growing chunks: at most twice what has arrived so far, never sized
      // from the announced length alone (a client announcing 512 MB and sending one byte costs a
      // read chunk, not 4 MiB; a thousand of them cost no gigabytes).
      reserve_input(in_end_ - in_begin_);  // moves the unparsed bytes to the front
      const uint64_t pending = parser_.pending_bulk_bytes();
      const uint64_t grown = std::max<uint64_t>(kReadChunk, 2 * uint64_t{in_end_});
      const size_t want = std::clamp<size_t>(
          static_cast<size_t>(std::min<uint64_t>({pending + 2, grown, kMaxReadChunk})), kReadChunk,
          kMaxReadChunk);
      size_t need = in_end_ + want;
      if (need > in_.capacity()) {
        // Grow by doubling (within what this request can still use), not by one chunk: fewer
        // calls, and a small buffer regrown a chunk at a time would be copied each time.
        need = std::max<size_t>(need, static_cast<size_t>(std::min<uint64_t>(
                                          2 * uint64_t{in_.capacity()}, in_end_ + pending + 2)));
      }
      reserve_input(need);
      const size_t n = co_await socket_.async_read_some(
          asio::buffer(in_.data() + in_end_, in_.capacity() - in_end_),
          asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      in_end_ += n;
      ctx_->counters.bytes_in.fetch_add(n, std::memory_order_relaxed);
      if (in_end_ - in_begin_ > ctx_->limits.query_buffer_limit()) {
        close_for_limit(false);
        break;
      }
      process_buffered();
      if (in_end_ == 0 && in_.capacity() > 2 * kMaxReadChunk)
        in_.reset();  // a buffer grown for a large value goes back once it is handled
    } else if (in_.capacity() > 0) {
      // Busy: the last read filled a buffer. Take what is there without waiting; once nothing
      // is, give the buffers back before waiting.
      const size_t n = socket_.read_some(asio::buffer(in_.data(), in_.capacity()), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) {
        ec = {};
        release_idle_buffers();
        continue;
      }
      if (ec) break;
      in_begin_ = 0;
      in_end_ = n;
      ctx_->counters.bytes_in.fetch_add(n, std::memory_order_relaxed);
      process_buffered();
      if (in_end_ == 0 && n < in_.capacity()) release_idle_buffers();
    } else {
      // Waiting for input in the connection's small buffer. Requests parsed there are handled
      // in place; only an incomplete request's bytes, or more input than fits, move to in_.
      release_idle_buffers();
      const size_t n = co_await socket_.async_read_some(
          asio::buffer(idle_in_), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      ctx_->counters.bytes_in.fetch_add(n, std::memory_order_relaxed);
      if (n == idle_in_.size()) {
        // Probably more waiting: take it into this thread's scratch buffer and parse it there,
        // without suspending (so no other session can use the buffer meanwhile); only what is
        // left unparsed is copied to in_.
        thread_local std::unique_ptr<char[]> scratch(new char[kReadChunk]);
        std::memcpy(scratch.get(), idle_in_.data(), n);
        const size_t more = socket_.read_some(asio::buffer(scratch.get() + n, kReadChunk - n), ec);
        size_t total = n;
        if (!ec) {
          total += more;
          ctx_->counters.bytes_in.fetch_add(more, std::memory_order_relaxed);
        } else if (ec != asio::error::would_block && ec != asio::error::try_again) {
          break;
        }
        ec = {};
        const std::string_view got(scratch.get(), total);
        keep_input(got.substr(parse_requests(got)));
        // A full scratch buffer: more may be waiting, read on into in_ without waiting.
        if (total == kReadChunk && in_end_ == 0) reserve_input(kReadChunk);
      } else {
        const std::string_view got(idle_in_.data(), n);
        keep_input(got.substr(parse_requests(got)));
      }
    }
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
    if (out_.empty() && !ready_reads_.empty()) {
      // The socket took everything: answer the reads held back for room.
      serve_ready_reads();
      unblock();
      if (!closed_ && output_limit_reached()) close_for_limit(true);
      if (closed_) break;
    }
    if (out_.empty()) {
      if (finished()) break;
      if (!over_limits()) reader_wake_.cancel();
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
