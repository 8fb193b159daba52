#include "net/server_connection.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "net/address.h"
#include "net/codec.h"

namespace cairn::net::detail {
namespace {
constexpr size_t kReadChunk = 64 * 1024;
}

bool append_answer(const Message& answer, std::string& out) {
  NetStatus st = append_frame(answer, out);
  if (st.ok()) return true;
  spdlog::error("dropping answer: {}", st.error().to_string());
  if (const auto* resp = std::get_if<ClientResponse>(&answer)) {
    ClientResponse err{resp->request_id, false, st.error().to_string(), resp->leader_hint, {}};
    return append_frame(err, out).ok();
  }
  return false;
}

ServerConnection::ServerConnection(asio::ip::tcp::socket socket, uint64_t id, Options options,
                                   std::shared_ptr<MessageHandler> sync,
                                   std::shared_ptr<AsyncMessageHandler> async,
                                   std::shared_ptr<NetworkServer::Counters> counters,
                                   std::function<void(uint64_t)> on_closed)
    : socket_(std::move(socket)),
      id_(id),
      options_(options),
      sync_(std::move(sync)),
      async_(std::move(async)),
      counters_(std::move(counters)),
      on_closed_(std::move(on_closed)),
      writer_wake_(socket_.get_executor()),
      reader_wake_(socket_.get_executor()),
      drain_deadline_(socket_.get_executor()),
      decoder_(options.max_frame) {
  std::error_code ec;
  auto ep = socket_.remote_endpoint(ec);
  peer_ = ec ? std::string("unknown peer") : to_string(ep);
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  socket_.non_blocking(true, ec);  // so flush_or_wake_writer() never blocks an I/O thread
}

void ServerConnection::start() {
  auto self = shared_from_this();
  asio::co_spawn(
      socket_.get_executor(), [self] { return self->read_loop(); }, asio::detached);
  asio::co_spawn(
      socket_.get_executor(), [self] { return self->write_loop(); }, asio::detached);
}

void ServerConnection::stop() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    if (self->stopping_ || self->closed_) return;
    self->stopping_ = true;
    // Cancelling the socket also cancels a write; if one is in progress the writer cancels the
    // read itself once that write completes.
    std::error_code ec;
    if (!self->writing_now_) self->socket_.cancel(ec);
    self->reader_wake_.cancel();
    self->start_drain_deadline();
  });
}

void ServerConnection::start_drain_deadline() {
  drain_deadline_.expires_after(options_.drain_timeout);
  drain_deadline_.async_wait([self = shared_from_this()](std::error_code ec) {
    if (!ec) self->close_now("drain timeout");
  });
}

void ServerConnection::post_answer(std::string frame) {
  asio::post(socket_.get_executor(), [self = shared_from_this(), f = std::move(frame)]() mutable {
    --self->in_flight_;
    if (self->closed_) return;
    if (!f.empty()) {
      if (self->pending_.empty()) {
        self->pending_ = std::move(f);
      } else {
        self->pending_.append(f);
      }
      self->counters_->frames_out.fetch_add(1, std::memory_order_relaxed);
    }
    self->writer_wake_.cancel();
    if (!self->over_limits()) self->reader_wake_.cancel();
  });
}

bool ServerConnection::over_limits() const {
  return in_flight_ >= options_.max_in_flight || pending_.size() >= options_.max_pending_output;
}

void ServerConnection::flush_or_wake_writer() {
  if (pending_.empty() || writing_now_) return;
  // Answers to everything one read brought in are written at once, in one non-blocking
  // write_some: the common case then needs no hand-off to the writer coroutine. Whatever the
  // socket does not take (or an error) is left to the writer.
  std::error_code ec;
  const size_t n = socket_.write_some(asio::buffer(pending_), ec);
  if (!ec && n == pending_.size()) {
    pending_.clear();
    return;
  }
  if (!ec) pending_.erase(0, n);
  writer_wake_.cancel();
}

void ServerConnection::close_now(const char* why) {
  if (closed_) return;
  closed_ = true;
  spdlog::debug("connection {} from {} closed: {}", id_, peer_, why);
  std::error_code ec;
  socket_.close(ec);
  writer_wake_.cancel();
  reader_wake_.cancel();
  drain_deadline_.cancel();
}

void ServerConnection::dispatch(Message&& msg) {
  counters_->frames_in.fetch_add(1, std::memory_order_relaxed);
  if (sync_) {
    if (auto answer = sync_->handle(std::move(msg))) {
      if (append_answer(*answer, pending_)) {
        counters_->frames_out.fetch_add(1, std::memory_order_relaxed);
      }
    }
    return;
  }
  ++in_flight_;
  async_->handle(std::move(msg), Responder(weak_from_this()));
}

bool ServerConnection::take_part(MessagePart&& part, std::string& why) {
  const size_t limit =
      sync_ ? sync_->max_message_in_parts(tag()) : async_->max_message_in_parts(tag());
  if (limit == 0) {
    why = "a message in parts from a connection that is not a trusted peer's";
    return false;
  }
  if (assembling_total_ == 0) {
    if (part.total <= kMaxFrameSize || part.total > limit) {
      why = fmt::format("a message in parts of {} bytes (it must be over {} and at most {})",
                        part.total, kMaxFrameSize, limit);
      return false;
    }
    assembling_total_ = part.total;
    assembling_.reserve(part.total);  // a trusted peer's: the size it announced is what comes
  }
  if (part.total != assembling_total_ || part.data.empty() ||
      part.data.size() > assembling_total_ - assembling_.size()) {
    why = fmt::format("a part of {} bytes of a {} byte message, {} bytes into a {} byte one",
                      part.data.size(), part.total, assembling_.size(), assembling_total_);
    return false;
  }
  assembling_.append(part.data);
  if (assembling_.size() < assembling_total_) return true;
  std::string whole = std::move(assembling_);
  assembling_ = std::string();
  assembling_total_ = 0;
  auto msg = decode_message({reinterpret_cast<const uint8_t*>(whole.data()), whole.size()});
  if (!msg.ok() || std::holds_alternative<MessagePart>(*msg)) {
    why = msg.ok() ? std::string("a message in parts that is itself a part")
                   : msg.error().to_string();
    return false;
  }
  whole = std::string();  // the decoded message holds its own copy
  dispatch(std::move(*msg));
  return true;
}

asio::awaitable<void> ServerConnection::read_loop() {
  std::error_code ec;
  while (!closed_ && !stopping_) {
    // Dispatch every complete frame buffered, pausing whenever this connection has too much
    // unanswered or unsent: the peer then waits, not the server's memory.
    for (;;) {
      while (over_limits() && !closed_ && !stopping_) {
        writer_wake_.cancel();
        reader_wake_.expires_at(asio::steady_timer::time_point::max());
        co_await reader_wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      }
      if (closed_ || stopping_) break;
      auto frame = decoder_.next();
      if (!frame) break;
      auto msg = decode_message(frame->payload);
      std::string why;
      if (msg.ok() && std::holds_alternative<MessagePart>(*msg)) {
        if (take_part(std::move(std::get<MessagePart>(*msg)), why)) continue;
      } else if (msg.ok()) {
        dispatch(std::move(*msg));
        continue;
      } else {
        why = msg.error().to_string();
      }
      counters_->decode_errors.fetch_add(1, std::memory_order_relaxed);
      protocol_error_ = true;
      spdlog::warn("closing connection {} from {}: {}", id_, peer_, why);
      break;
    }
    if (closed_ || stopping_ || protocol_error_) break;
    if (decoder_.broken()) {
      counters_->oversized.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn("closing connection {} from {}: {}", id_, peer_, decoder_.error().to_string());
      protocol_error_ = true;
      break;
    }
    flush_or_wake_writer();
    auto room = decoder_.prepare(kReadChunk);
    size_t n = co_await socket_.async_read_some(asio::buffer(room.data(), room.size()),
                                                asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (decoder_.buffered() > 0 && !stopping_ && !closed_) {
        counters_->mid_frame.fetch_add(1, std::memory_order_relaxed);
        spdlog::info("connection {} from {}: peer went away with {} bytes of a partial frame", id_,
                     peer_, decoder_.buffered());
      }
      break;
    }
    decoder_.commit(n);
  }
  if (protocol_error_) {
    // Nothing after the bad bytes can be trusted, but what came before them is answered: the
    // writer flushes those answers (waiting at most drain_timeout) and then closes.
    start_drain_deadline();
  }
  reading_done_ = true;
  writer_wake_.cancel();
}

asio::awaitable<void> ServerConnection::write_loop() {
  auto self = shared_from_this();  // keeps the connection alive until the writer is done
  std::error_code ec;
  for (;;) {
    if (closed_) break;
    if (pending_.empty()) {
      if (reading_done_ && in_flight_ == 0) break;
      writer_wake_.expires_at(asio::steady_timer::time_point::max());
      co_await writer_wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    std::swap(pending_, writing_);
    writing_now_ = true;
    co_await asio::async_write(socket_, asio::buffer(writing_),
                               asio::redirect_error(asio::use_awaitable, ec));
    writing_now_ = false;
    writing_.clear();
    if (ec) {
      close_now("write failed");
      break;
    }
    if (stopping_ && !reading_done_) socket_.cancel(ec);  // see stop()
    if (!over_limits()) reader_wake_.cancel();
  }
  close_now("done");
  counters_->active.fetch_sub(1, std::memory_order_relaxed);
  on_closed_(id_);
}

}  // namespace cairn::net::detail
