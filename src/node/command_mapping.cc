#include "node/command_mapping.h"

#include <string>

#include "common/overloaded.h"

namespace cairn::node {
namespace {

cache::Expiry ttl_expiry(const std::optional<uint64_t>& ttl_ms) {
  if (!ttl_ms) return cache::Expiry::none();
  // The protocol's u64 is clamped into the engine's signed range; ~292 million years either way.
  const auto ms = static_cast<int64_t>(std::min<uint64_t>(*ttl_ms, INT64_MAX / 2));
  return cache::Expiry::relative(ms);
}

}  // namespace

Operation to_operation(const net::CacheCommand& cmd) {
  using K = ReadOp::Kind;
  return std::visit(
      Overloaded{
          [](const net::PutCommand& c) -> Operation {
            return cache::Put{c.key, c.value, cache::PutCondition::kAlways, false,
                              ttl_expiry(c.ttl_ms)};
          },
          [](const net::DeleteCommand& c) -> Operation { return cache::Delete{{c.key}}; },
          [](const net::ClearCommand&) -> Operation { return cache::Clear{}; },
          [](const net::GetCommand& c) -> Operation { return ReadOp{K::kGet, c.key, false}; },
          [](const net::IncrCommand& c) -> Operation { return cache::IncrBy{c.key, c.delta}; },
          [](const net::CompareAndSetCommand& c) -> Operation {
            return cache::CompareAndSet{c.key, c.expected, c.value, ttl_expiry(c.ttl_ms)};
          },
          [](const net::ExpireCommand& c) -> Operation {
            return cache::Expire{c.key, ttl_expiry(c.ttl_ms), cache::ExpireCondition::kAlways};
          },
          [](const net::PersistCommand& c) -> Operation { return cache::Persist{c.key}; },
          [](const net::AppendCommand& c) -> Operation { return cache::Append{c.key, c.value}; },
          [](const net::GetDelCommand& c) -> Operation { return cache::GetDel{c.key}; },
          [](const net::ExistsCommand& c) -> Operation {
            return ReadOp{K::kExists, c.key, false};
          },
          [](const net::TtlCommand& c) -> Operation { return ReadOp{K::kTtl, c.key, false}; },
          [](const net::StaleGetCommand& c) -> Operation {
            return ReadOp{K::kGet, c.key, true};
          }},
      cmd);
}

net::ClientResponse to_response(const cache::Reply& reply) {
  net::ClientResponse r;
  r.success = true;
  std::visit(Overloaded{[](const cache::Ok&) {}, [](const cache::Nil&) {},
                        [&](int64_t n) { r.value = std::to_string(n); },
                        [&](const cache::Bytes& b) { r.value = b; },
                        [&](const cache::Error& e) {
                          r.success = false;
                          r.error = e.message;
                        }},
             reply);
  return r;
}

net::ClientResponse serve_read(const cache::Engine& engine, const ReadOp& op) {
  net::ClientResponse r;
  r.success = true;
  switch (op.kind) {
    case ReadOp::Kind::kGet:
      if (auto v = engine.get(op.key)) r.value = std::move(*v);
      break;
    case ReadOp::Kind::kExists:
      r.value = std::to_string(engine.exists({op.key}));
      break;
    case ReadOp::Kind::kTtl:
      r.value = std::to_string(engine.pttl(op.key));
      break;
  }
  return r;
}

net::ClientResponse failure(std::string error, std::optional<net::NodeId> leader_hint) {
  net::ClientResponse r;
  r.success = false;
  r.error = std::move(error);
  r.leader_hint = leader_hint;
  return r;
}

}  // namespace cairn::node
