// The typed calls of Client: each builds a command, sends it, and reads the reply's value.
#include <charconv>

#include "client/client.h"

namespace cairn::client {

namespace {

// Reads whose repetition changes nothing: resent even when an attempt's outcome is unknown.
bool idempotent(const net::CacheCommand& cmd) {
  return std::holds_alternative<net::GetCommand>(cmd) ||
         std::holds_alternative<net::StaleGetCommand>(cmd) ||
         std::holds_alternative<net::ExistsCommand>(cmd) ||
         std::holds_alternative<net::TtlCommand>(cmd);
}

Client::Reply to_value(Result<net::Message> r) {
  if (!r.ok()) return Err(std::move(r).error());
  auto* resp = std::get_if<net::ClientResponse>(&*r);
  if (!resp) {
    return Err(Error(Error::Kind::kProtocol, std::string("expected a ClientResponse, got a ") +
                                                 net::message_kind_name(*r)));
  }
  return std::move(resp->value);
}

Result<int64_t> to_int(Client::Reply r) {
  if (!r.ok()) return Err(std::move(r).error());
  if (!r->has_value())
    return Err(Error(Error::Kind::kProtocol, "expected an integer, got no value"));
  const std::string& text = **r;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return Err(Error(Error::Kind::kProtocol, "expected an integer, got '" + text + "'"));
  }
  return v;
}

Result<bool> to_bool(Client::Reply r) {
  auto v = to_int(std::move(r));
  if (!v.ok()) return Err(std::move(v).error());
  return *v != 0;
}

Status to_status(Client::Reply r) {
  if (!r.ok()) return Err(std::move(r).error());
  return {};
}

std::optional<uint64_t> ttl_ms(Ttl ttl) {
  if (!ttl) return std::nullopt;
  return static_cast<uint64_t>(std::max<int64_t>(ttl->count(), 0));
}

}  // namespace

void Client::submit(net::CacheCommand command, std::function<void(Reply)> done) {
  bool safe = idempotent(command);
  run(net::ClientRequest{0, std::move(command)}, safe,
      [done = std::move(done)](Result<net::Message> r) { done(to_value(std::move(r))); });
}

std::future<Client::Reply> Client::submit(net::CacheCommand command) {
  auto promise = std::make_shared<std::promise<Reply>>();
  auto future = promise->get_future();
  submit(std::move(command), [promise](Reply r) { promise->set_value(std::move(r)); });
  return future;
}

Result<std::optional<Bytes>> Client::get(const Bytes& key, bool stale) {
  if (stale) return submit(net::StaleGetCommand{key}).get();
  return submit(net::GetCommand{key}).get();
}
Result<bool> Client::exists(const Bytes& key) {
  return to_bool(submit(net::ExistsCommand{key}).get());
}
Result<int64_t> Client::ttl(const Bytes& key) {
  return to_int(submit(net::TtlCommand{key}).get());
}

Status Client::set(const Bytes& key, const Bytes& value, Ttl ttl) {
  return to_status(submit(net::PutCommand{key, value, ttl_ms(ttl)}).get());
}
Result<bool> Client::del(const Bytes& key) {
  return to_bool(submit(net::DeleteCommand{key}).get());
}
Result<int64_t> Client::incr(const Bytes& key, int64_t delta) {
  return to_int(submit(net::IncrCommand{key, delta}).get());
}
Result<bool> Client::cas(const Bytes& key, const Bytes& expected, const Bytes& value, Ttl ttl) {
  return to_bool(submit(net::CompareAndSetCommand{key, expected, value, ttl_ms(ttl)}).get());
}
Result<bool> Client::expire(const Bytes& key, std::chrono::milliseconds ttl) {
  return to_bool(submit(net::ExpireCommand{key, *ttl_ms(ttl)}).get());
}
Result<bool> Client::persist(const Bytes& key) {
  return to_bool(submit(net::PersistCommand{key}).get());
}
Result<uint64_t> Client::append(const Bytes& key, const Bytes& value) {
  auto n = to_int(submit(net::AppendCommand{key, value}).get());
  if (!n.ok()) return Err(std::move(n).error());
  return static_cast<uint64_t>(*n);
}
Result<std::optional<Bytes>> Client::getdel(const Bytes& key) {
  return submit(net::GetDelCommand{key}).get();
}
Status Client::clear() {
  return to_status(submit(net::ClearCommand{}).get());
}

Result<net::StatusResponse> Client::status() {
  auto r = call(net::StatusRequest{}, true);
  if (!r.ok()) return Err(std::move(r).error());
  auto* st = std::get_if<net::StatusResponse>(&*r);
  if (!st) {
    return Err(Error(Error::Kind::kProtocol, std::string("expected a StatusResponse, got a ") +
                                                 net::message_kind_name(*r)));
  }
  return std::move(*st);
}

// Membership changes are not idempotent as far as the client can tell (a node removed and added
// again between two attempts would be removed twice): an unknown outcome is returned.
Status Client::add_node(net::NodeId id, const std::string& addr) {
  return to_status(to_value(call(net::AdminRequest{0, net::AddNodeCommand{id, addr}}, false)));
}
Status Client::remove_node(net::NodeId id) {
  return to_status(to_value(call(net::AdminRequest{0, net::RemoveNodeCommand{id}}, false)));
}
Status Client::transfer_leader(net::NodeId id) {
  return to_status(to_value(call(net::AdminRequest{0, net::TransferLeaderCommand{id}}, false)));
}

}  // namespace cairn::client
