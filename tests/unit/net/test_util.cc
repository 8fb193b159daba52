#include "test_util.h"

#include <sys/resource.h>
#include <sys/socket.h>

#include <spdlog/spdlog.h>

#include <asio/connect.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

namespace cairn::net::testing {

// spdlog creates its default logger lazily inside its shared library, where ThreadSanitizer cannot
// see the synchronisation; creating it before any test starts a thread avoids a false report.
[[maybe_unused]] const bool kLoggerReady = (spdlog::default_logger(), true);

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return pred();
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

void raise_fd_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

RawClient::RawClient(uint16_t port, std::chrono::milliseconds recv_timeout) : socket_(io_) {
  socket_.connect({asio::ip::make_address("127.0.0.1"), port});
  timeval tv{};
  tv.tv_sec = recv_timeout.count() / 1000;
  tv.tv_usec = static_cast<suseconds_t>((recv_timeout.count() % 1000) * 1000);
  setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

void RawClient::send_bytes(std::string_view bytes) {
  asio::write(socket_, asio::buffer(bytes.data(), bytes.size()));
}

void RawClient::send(const Message& msg) {
  std::string frame;
  if (!append_frame(msg, frame).ok()) throw std::runtime_error("cannot frame message");
  send_bytes(frame);
}

NetResult<Message> RawClient::receive() {
  for (;;) {
    if (auto frame = decoder_.next()) return decode_message(frame->payload);
    if (decoder_.broken()) return Err(decoder_.error());
    auto room = decoder_.prepare(64 * 1024);
    std::error_code ec;
    size_t n = socket_.read_some(asio::buffer(room.data(), room.size()), ec);
    if (ec == asio::error::eof || ec == asio::error::connection_reset) {
      return Err(NetworkError::connection_closed());
    }
    if (ec) return Err(NetworkError::receive_failed(ec.message()));
    decoder_.commit(n);
  }
}

bool RawClient::closed_by_server() {
  char buf[4096];
  for (;;) {
    std::error_code ec;
    socket_.read_some(asio::buffer(buf), ec);
    if (ec == asio::error::eof || ec == asio::error::connection_reset) return true;
    if (ec) return false;  // timeout
  }
}

void RawClient::close() {
  std::error_code ec;
  socket_.close(ec);
}

}  // namespace cairn::net::testing
