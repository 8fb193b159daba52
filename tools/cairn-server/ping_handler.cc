#include "ping_handler.h"

#include <spdlog/spdlog.h>

namespace cairn::tools {

std::optional<net::Message> PingHandler::handle(net::Message msg) {
  if (std::holds_alternative<net::PingRequest>(msg)) {
    return net::PongResponse{id_, addr_, std::nullopt};
  }
  if (auto* req = std::get_if<net::ClientRequest>(&msg)) {
    return net::ClientResponse{req->request_id, false,
                               "cache commands are not served by this node yet", std::nullopt,
                               std::nullopt};
  }
  spdlog::debug("ignoring {} message", net::message_kind_name(msg));
  return std::nullopt;
}

}  // namespace cairn::tools
