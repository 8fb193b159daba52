// FakeNode: a scripted cairn node for client tests. It keeps a plain map for data, answers
// StatusRequests with a status the test sets, and can be told to refuse the next requests (with
// an error and leader hint), to hold them unanswered, or to answer held ones in reverse order.
// It opens client sessions (numbering them 1, 2, ...) and serves a session's writes as plain
// requests, keeping their numbers for tests to look at.
#pragma once

#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "net/handler.h"
#include "test_util.h"

namespace cairn::client::testing {

class FakeNode : public net::AsyncMessageHandler {
 public:
  explicit FakeNode(net::NodeId id) { status_.node_id = id; }

  void handle(net::Message msg, net::Responder responder) override;

  // The next `n` ClientRequests (n < 0: all) are refused with `error` and `hint`.
  void refuse(int n, std::string error, std::optional<net::NodeId> hint = std::nullopt);
  // The next requests are refused with these errors, one each, in order (before refuse()'s).
  void refuse_each(std::vector<std::string> errors);
  // From now on ClientRequests are kept unanswered until answer_held() (or forever).
  void hold(bool on);
  // Answers every held request, newest first.
  void answer_held_reversed();
  size_t held();
  void set_status(net::StatusResponse status);

  int client_requests();
  int status_requests();
  std::vector<net::AdminCommand> admin_commands();
  std::optional<std::string> value(const std::string& key);
  // The (session, seq, acked) of every SessionRequest received, in order.
  struct SessionWrite {
    uint64_t session, seq, acked;
  };
  std::vector<SessionWrite> session_writes() {
    std::lock_guard lock(mu_);
    return session_writes_;
  }
  uint64_t sessions_opened() {
    std::lock_guard lock(mu_);
    return sessions_opened_;
  }
  size_t max_held() {
    std::lock_guard lock(mu_);
    return max_held_;
  }

 private:
  net::ClientResponse apply(const net::ClientRequest& req);

  std::mutex mu_;
  std::map<std::string, std::string> data_;
  net::StatusResponse status_;
  int refuse_left_ = 0;
  std::deque<std::string> refusals_;
  std::string refusal_;
  std::optional<net::NodeId> hint_;
  bool hold_ = false;
  std::deque<std::pair<net::ClientRequest, net::Responder>> held_;
  size_t max_held_ = 0;
  int client_requests_ = 0;
  std::vector<SessionWrite> session_writes_;
  uint64_t sessions_opened_ = 0;
  int status_requests_ = 0;
  std::vector<net::AdminCommand> admin_;
};

// A FakeNode served by a NetworkServer on 127.0.0.1:<free port>.
struct FakeServer {
  explicit FakeServer(net::NodeId id,
                      std::chrono::milliseconds drain = std::chrono::milliseconds(100))
      : node(std::make_shared<FakeNode>(id)), server(config(id, drain), node) {}
  static net::ServerConfig config(net::NodeId id, std::chrono::milliseconds drain) {
    net::ServerConfig c;
    c.node_id = id;
    c.drain_timeout = drain;
    return c;
  }
  std::string addr() const { return server.addr(); }

  std::shared_ptr<FakeNode> node;
  net::testing::ServerThread server;
};

// A 127.0.0.1 address where nothing listens (a port just bound and released).
std::string unused_addr();

}  // namespace cairn::client::testing
