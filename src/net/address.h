// Parsing of "host:port" addresses given on the command line or in Ping messages.
#pragma once

#include <asio/ip/tcp.hpp>
#include <string>
#include <string_view>

#include "net/error.h"

namespace cairn::net {

// Accepts "1.2.3.4:9000", "[::1]:9000" and "localhost:9000" (resolved; the first address wins).
// Port 0 is allowed only when `allow_port_zero` (an ephemeral listening port). The error is a
// sentence for people, e.g. "invalid address 'foo': no port (expected HOST:PORT, ...)".
Result<asio::ip::tcp::endpoint, std::string> parse_endpoint(std::string_view text,
                                                            bool allow_port_zero = false);

std::string to_string(const asio::ip::tcp::endpoint& ep);

}  // namespace cairn::net
