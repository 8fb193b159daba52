#include "fake_node.h"

#include "common/overloaded.h"

namespace cairn::client::testing {

using namespace net;

void FakeNode::handle(Message msg, Responder responder) {
  std::unique_lock lock(mu_);
  if (auto* st = std::get_if<StatusRequest>(&msg)) {
    status_requests_++;
    StatusResponse s = status_;
    s.request_id = st->request_id;
    lock.unlock();
    return responder.reply(s);
  }
  if (auto* ad = std::get_if<AdminRequest>(&msg)) {
    admin_.push_back(ad->command);
    lock.unlock();
    return responder.reply(
        ClientResponse{ad->request_id, true, std::nullopt, std::nullopt, std::nullopt});
  }
  // A session's write is served as a plain request (this fake has no log to deduplicate); the
  // numbers it carried are kept for tests.
  if (auto* sr = std::get_if<SessionRequest>(&msg)) {
    session_writes_.push_back({sr->session, sr->seq, sr->acked});
    msg = ClientRequest{sr->request_id, std::move(sr->command)};
  }
  auto* req = std::get_if<ClientRequest>(&msg);
  if (!req) return;
  if (std::holds_alternative<OpenSessionCommand>(req->command)) {  // never refused nor held
    ClientResponse r = apply(*req);
    lock.unlock();
    return responder.reply(r);
  }
  client_requests_++;
  if (!refusals_.empty()) {
    ClientResponse r{req->request_id, false, refusals_.front(), std::nullopt, std::nullopt};
    refusals_.pop_front();
    lock.unlock();
    return responder.reply(r);
  }
  if (refuse_left_ != 0) {
    if (refuse_left_ > 0) refuse_left_--;
    ClientResponse r{req->request_id, false, refusal_, hint_, std::nullopt};
    lock.unlock();
    return responder.reply(r);
  }
  if (hold_) {
    held_.emplace_back(*req, std::move(responder));
    max_held_ = std::max(max_held_, held_.size());
    return;
  }
  ClientResponse r = apply(*req);
  lock.unlock();
  responder.reply(r);
}

ClientResponse FakeNode::apply(const ClientRequest& req) {
  ClientResponse r{req.request_id, true, std::nullopt, std::nullopt, std::nullopt};
  auto find = [&](const std::string& k) -> std::optional<std::string> {
    auto it = data_.find(k);
    if (it == data_.end()) return std::nullopt;
    return it->second;
  };
  std::visit(Overloaded{
                 [&](const PutCommand& c) { data_[c.key] = c.value; },
                 [&](const DeleteCommand& c) { r.value = data_.erase(c.key) ? "1" : "0"; },
                 [&](const ClearCommand&) { data_.clear(); },
                 [&](const GetCommand& c) { r.value = find(c.key); },
                 [&](const StaleGetCommand& c) { r.value = find(c.key); },
                 [&](const IncrCommand& c) {
                   auto v = find(c.key);
                   try {
                     int64_t n = (v ? std::stoll(*v) : 0) + c.delta;
                     data_[c.key] = r.value.emplace(std::to_string(n));
                   } catch (const std::exception&) {
                     r.success = false;
                     r.error = "value is not an integer";
                   }
                 },
                 [&](const CompareAndSetCommand& c) {
                   bool hit = find(c.key) == c.expected;
                   if (hit) data_[c.key] = c.value;
                   r.value = hit ? "1" : "0";
                 },
                 [&](const ExpireCommand& c) { r.value = data_.count(c.key) ? "1" : "0"; },
                 [&](const PersistCommand&) { r.value = "0"; },
                 [&](const AppendCommand& c) {
                   r.value = std::to_string((data_[c.key] += c.value).size());
                 },
                 [&](const GetDelCommand& c) {
                   r.value = find(c.key);
                   data_.erase(c.key);
                 },
                 [&](const ExistsCommand& c) { r.value = data_.count(c.key) ? "1" : "0"; },
                 [&](const TtlCommand& c) { r.value = data_.count(c.key) ? "-1" : "-2"; },
                 [&](const OpenSessionCommand&) { r.value = std::to_string(++sessions_opened_); },
             },
             req.command);
  return r;
}

void FakeNode::refuse(int n, std::string error, std::optional<NodeId> hint) {
  std::lock_guard lock(mu_);
  refuse_left_ = n;
  refusal_ = std::move(error);
  hint_ = hint;
}

void FakeNode::refuse_each(std::vector<std::string> errors) {
  std::lock_guard lock(mu_);
  refusals_.assign(errors.begin(), errors.end());
}

void FakeNode::hold(bool on) {
  std::lock_guard lock(mu_);
  hold_ = on;
}

void FakeNode::answer_held_reversed() {
  std::deque<std::pair<ClientRequest, Responder>> batch;
  {
    std::lock_guard lock(mu_);
    batch.swap(held_);
  }
  for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
    ClientResponse r;
    {
      std::lock_guard lock(mu_);
      r = apply(it->first);
    }
    it->second.reply(r);
  }
}

size_t FakeNode::held() {
  std::lock_guard lock(mu_);
  return held_.size();
}

void FakeNode::set_status(StatusResponse status) {
  std::lock_guard lock(mu_);
  status_ = std::move(status);
}

int FakeNode::client_requests() {
  std::lock_guard lock(mu_);
  return client_requests_;
}

int FakeNode::status_requests() {
  std::lock_guard lock(mu_);
  return status_requests_;
}

std::vector<AdminCommand> FakeNode::admin_commands() {
  std::lock_guard lock(mu_);
  return admin_;
}

std::optional<std::string> FakeNode::value(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = data_.find(key);
  if (it == data_.end()) return std::nullopt;
  return it->second;
}

std::string unused_addr() {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  auto port = acceptor.local_endpoint().port();
  acceptor.close();
  return "127.0.0.1:" + std::to_string(port);
}

}  // namespace cairn::client::testing
