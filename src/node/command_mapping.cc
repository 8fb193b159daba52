#include "node/command_mapping.h"

#include <string>

#include "cache/codec.h"
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
          [](const net::GetCommand& c) -> Operation {
            return ReadOp{K::kGet, c.key, false};
          },
          [](const net::IncrCommand& c) -> Operation {
            return cache::IncrBy{c.key, c.delta};
          },
          [](const net::CompareAndSetCommand& c) -> Operation {
            return cache::CompareAndSet{c.key, c.expected, c.value, ttl_expiry(c.ttl_ms)};
          },
          [](const net::ExpireCommand& c) -> Operation {
            return cache::Expire{c.key, ttl_expiry(c.ttl_ms), cache::ExpireCondition::kAlways};
          },
          [](const net::PersistCommand& c) -> Operation { return cache::Persist{c.key}; },
          [](const net::AppendCommand& c) -> Operation {
            return cache::Append{c.key, c.value};
          },
          [](const net::GetDelCommand& c) -> Operation { return cache::GetDel{c.key}; },
          [](const net::ExistsCommand& c) -> Operation {
            return ReadOp{K::kExists, c.key, false};
          },
          [](const net::TtlCommand& c) -> Operation {
            return ReadOp{K::kTtl, c.key, false};
          },
          [](const net::StaleGetCommand& c) -> Operation {
            return ReadOp{K::kGet, c.key, true};
          },
          [](const net::OpenSessionCommand&) -> Operation { return cache::OpenSession{}; }},
      cmd);
}

net::ClientResponse to_response(const Outcome& outcome) {
  net::ClientResponse r;
  if (!outcome.reply) {
    r.error = outcome.error;
    r.leader_hint = outcome.leader_hint;
    return r;
  }
  r.success = true;
  std::visit(Overloaded{[](const cache::Ok&) {}, [](const cache::Nil&) {},
                        [&](int64_t n) { r.value = std::to_string(n); },
                        [&](const cache::Bytes& b) { r.value = b; },
                        [&](const cache::Error& e) {
                          r.success = false;
                          r.error = e.message;
                        },
                        [&](const cache::Array&) {
                          // Only Redis commands answer arrays; none reaches the native protocol.
                          r.success = false;
                          r.error = "the native protocol carries no array replies";
                        }},
             *outcome.reply);
  return r;
}

cache::Reply serve_read(const cache::Engine& engine, const ReadOp& op) {
  switch (op.kind) {
    case ReadOp::Kind::kGet:
      if (auto v = engine.get(op.key)) return std::move(*v);
      return cache::Nil{};
    case ReadOp::Kind::kExists:
      return engine.exists({op.key});
    case ReadOp::Kind::kTtl:
      return engine.pttl(op.key);
  }
  return cache::Nil{};
}

net::ClientResponse outcome_to_forward_reply(const Outcome& outcome, bool engine_command) {
  if (!engine_command || !outcome.reply) return to_response(outcome);
  net::ClientResponse r;
  r.success = true;
  r.value = cache::encode_reply(*outcome.reply);
  return r;
}

Outcome forward_reply_to_outcome(const net::ClientResponse& resp, bool engine_command) {
  if (!resp.success)
    return Outcome::fail(resp.error.value_or("refused without a reason"), resp.leader_hint);
  if (!engine_command) {
    if (resp.value) return Outcome::of(*resp.value);
    return Outcome::of(cache::Ok{});
  }
  if (!resp.value) return Outcome::fail("malformed forward reply: no engine reply");
  auto reply = cache::decode_reply(*resp.value);
  if (!reply.ok()) return Outcome::fail("malformed forward reply: " + reply.error().message);
  return Outcome::of(std::move(*reply));
}

}  // namespace cairn::node
