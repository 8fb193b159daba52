#include "node/join.h"

#include <fmt/format.h>

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>
#include <functional>
#include <optional>

#include "net/address.h"
#include "net/codec.h"
#include "net/frame.h"

namespace cairn::node {

Result<std::string, std::string> request_admission(const std::string& member, net::NodeId id,
                                                   const std::string& self_addr,
                                                   std::chrono::milliseconds timeout) {
  auto ep = net::parse_endpoint(member, false);
  if (!ep.ok()) return Err{fmt::format("--join {}: {}", member, ep.error())};
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  std::string frame;
  net::AdminRequest req{1, net::AddNodeCommand{id, self_addr}};
  if (auto st = net::append_frame(net::Message{req}, frame); !st.ok())
    return Err{st.error().to_string()};

  std::string error;
  net::FrameDecoder decoder;
  std::optional<net::ClientResponse> answer;
  std::function<void()> read_more = [&] {
    auto room = decoder.prepare(4096);
    socket.async_read_some(
        asio::buffer(room.data(), room.size()), [&](std::error_code ec, size_t n) {
          if (ec) {
            error = fmt::format("connection to {} lost: {}", member, ec.message());
            return;
          }
          decoder.commit(n);
          while (auto f = decoder.next()) {
            auto msg = net::decode_message(f->payload);
            if (!msg.ok()) {
              error = msg.error().to_string();
              return;
            }
            if (auto* r = std::get_if<net::ClientResponse>(&*msg)) {
              answer = *r;
              return;
            }
          }
          if (decoder.broken()) {
            error = decoder.error().to_string();
            return;
          }
          read_more();
        });
  };
  socket.async_connect(*ep, [&](std::error_code ec) {
    if (ec) {
      error = fmt::format("cannot connect to {}: {}", member, ec.message());
      return;
    }
    asio::async_write(socket, asio::buffer(frame), [&](std::error_code wec, size_t) {
      if (wec) {
        error = fmt::format("cannot send to {}: {}", member, wec.message());
        return;
      }
      read_more();
    });
  });
  io.run_for(timeout);
  if (answer) {
    if (answer->success) return answer->value.value_or("");
    return Err{answer->error.value_or("refused without a reason")};
  }
  if (error.empty()) error = fmt::format("no answer from {} within {} ms", member, timeout.count());
  return Err{error};
}

}  // namespace cairn::node
