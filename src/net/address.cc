#include "net/address.h"

#include <fmt/format.h>

#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>
#include <charconv>

namespace cairn::net {

Result<asio::ip::tcp::endpoint, std::string> parse_endpoint(std::string_view text,
                                                            bool allow_port_zero) {
  auto bad = [&](std::string_view why) {
    return Err(fmt::format(
        "invalid address '{}': {} (expected HOST:PORT, e.g. 127.0.0.1:9000 or [::1]:9000)", text,
        why));
  };
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return bad("no port");
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return bad("IPv6 addresses must be written in brackets");
  }
  if (host.empty()) return bad("empty host");
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return bad(fmt::format("port '{}' is not a number from 1 to 65535", port_text));
  }
  if (port == 0 && !allow_port_zero) return bad("port 0 is not allowed here");

  std::error_code err;
  auto addr = asio::ip::make_address(std::string(host), err);
  if (!err) return asio::ip::tcp::endpoint(addr, static_cast<uint16_t>(port));

  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  auto results = resolver.resolve(std::string(host), std::string(port_text), err);
  if (err || results.empty()) {
    return bad(fmt::format("cannot resolve host '{}': {}", host, err.message()));
  }
  return results.begin()->endpoint();
}

std::string to_string(const asio::ip::tcp::endpoint& ep) {
  if (ep.address().is_v6()) return fmt::format("[{}]:{}", ep.address().to_string(), ep.port());
  return fmt::format("{}:{}", ep.address().to_string(), ep.port());
}

}  // namespace cairn::net
