#include <spdlog/spdlog.h>

#include "net/handler.h"
#include "net/server_connection.h"

namespace cairn::net {

Responder& Responder::operator=(Responder&& other) noexcept {
  if (this != &other) {
    finish();
    conn_ = std::move(other.conn_);
  }
  return *this;
}

Responder::~Responder() {
  finish();
}

void Responder::reply(const Message& msg) {
  auto conn = conn_.lock();
  conn_.reset();
  if (!conn) return;
  std::string frame;
  detail::append_answer(msg, frame);
  conn->post_answer(std::move(frame));
}

void Responder::set_connection_tag(uint64_t tag) {
  if (auto conn = conn_.lock()) conn->set_tag(tag);
}

uint64_t Responder::connection_tag() const {
  auto conn = conn_.lock();
  return conn ? conn->tag() : 0;
}

void Responder::finish() {
  auto conn = conn_.lock();
  conn_.reset();
  if (conn) conn->post_answer({});
}

}  // namespace cairn::net
