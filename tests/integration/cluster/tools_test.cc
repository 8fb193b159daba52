// cairn-cli against real nodes as a person would use it, and the native port's Ping/Pong and
// bad-input handling seen from a raw socket.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>
#include <cstdio>

#include "harness.h"
#include "net/codec.h"
#include "net/frame.h"

namespace cairn::itest {
namespace {

struct Run {
  int code = -1;
  std::string out;
};

// Runs cairn-cli with `args` and returns its exit code and stdout.
Run cli(const std::string& args) {
  const std::string cmd = std::string(CAIRN_CLI_BINARY) + " " + args + " 2>/dev/null";
  Run r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n = 0;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
    r.out.append(buf, n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

TEST(Tools, CliAgainstAThreeNodeCluster) {
  ClusterOptions o;
  o.nodes = 3;
  LocalCluster cluster(o);
  const uint64_t leader = cluster.wait_for_leader(10s);
  ASSERT_NE(leader, 0u) << cluster.logs();
  const uint64_t follower = leader == 1 ? 2 : 1;
  const std::string at = "--addr " + cluster.addr(follower) + " ";

  EXPECT_EQ(cli(at + "set greeting hello").code, 0);
  auto got = cli(at + "get greeting");
  EXPECT_EQ(got.code, 0);
  EXPECT_EQ(got.out, "hello\n");
  EXPECT_EQ(cli(at + "get --stale greeting").out, "hello\n");
  EXPECT_EQ(cli(at + "get nothing-here").code, 1);
  EXPECT_EQ(cli(at + "set temp x --ttl 10s").code, 0);
  const auto ttl = std::stoll(cli(at + "ttl temp").out);
  EXPECT_GT(ttl, 5000);
  EXPECT_LE(ttl, 10000);
  EXPECT_EQ(cli(at + "incr n --by 5").out, "5\n");
  EXPECT_EQ(cli(at + "incr n").out, "6\n");
  EXPECT_EQ(cli(at + "incr greeting").code, 1);  // not an integer
  auto cas = cli(at + "cas greeting hello bye");
  EXPECT_EQ(cas.code, 0);
  EXPECT_EQ(cas.out, "1\n");
  EXPECT_EQ(cli(at + "cas greeting hello again").code, 1);
  EXPECT_EQ(cli(at + "del greeting").out, "1\n");
  EXPECT_EQ(cli(at + "set k v --ttl soon").code, 2);  // a bad duration is a usage error
  EXPECT_EQ(cli("--addr nowhere get k").code, 2);

  auto status = cli(at + "status --json");
  ASSERT_EQ(status.code, 0);
  for (const char* field : {"\"node_id\":", "\"role\":\"follower\"", "\"term\":",
                            "\"commit_index\":", "\"applied_index\":", "\"members\":["})
    EXPECT_NE(status.out.find(field), std::string::npos) << field << " in " << status.out;
  EXPECT_NE(status.out.find("\"leader_id\":" + std::to_string(leader)), std::string::npos)
      << status.out;
  auto members = cli(at + "members list");
  EXPECT_EQ(members.code, 0);
  for (uint64_t id : cluster.ids())
    EXPECT_NE(members.out.find(cluster.addr(id)), std::string::npos) << members.out;

  EXPECT_EQ(cli(at + "transfer-leader " + std::to_string(follower)).code, 0);
  EXPECT_EQ(cluster.wait_for_leader(10s), follower) << cluster.logs();
  EXPECT_EQ(cli(at + "members remove 99").code, 1);  // not a member
}

// Sends `frames` on a fresh connection and reads one framed answer.
std::optional<net::Message> exchange(const std::string& addr, const std::string& frames) {
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  const auto colon = addr.rfind(':');
  std::error_code ec;
  s.connect({asio::ip::make_address(addr.substr(0, colon)),
             static_cast<uint16_t>(std::stoi(addr.substr(colon + 1)))},
            ec);
  if (ec) return std::nullopt;
  asio::write(s, asio::buffer(frames), ec);
  unsigned char header[4];
  if (asio::read(s, asio::buffer(header), ec) != 4) return std::nullopt;
  const size_t len =
      (size_t{header[0]} << 24) | (size_t{header[1]} << 16) | (size_t{header[2]} << 8) | header[3];
  std::vector<uint8_t> payload(len);
  if (asio::read(s, asio::buffer(payload), ec) != len) return std::nullopt;
  auto msg = net::decode_message(payload);
  if (!msg.ok()) return std::nullopt;
  return *msg;
}

TEST(Tools, PingIsAnsweredWithTheLeaderAndGarbageCostsOnlyItsConnection) {
  ClusterOptions o;
  o.nodes = 3;
  LocalCluster cluster(o);
  const uint64_t leader = cluster.wait_for_leader(10s);
  ASSERT_NE(leader, 0u) << cluster.logs();
  const uint64_t follower = leader == 1 ? 2 : 1;
  std::string ping;
  ASSERT_TRUE(net::append_frame(net::PingRequest{42, "127.0.0.1:1"}, ping).ok());
  auto pong = exchange(cluster.addr(follower), ping);
  ASSERT_TRUE(pong.has_value());
  const auto& p = std::get<net::PongResponse>(*pong);
  EXPECT_EQ(p.node_id, follower);
  EXPECT_EQ(p.raft_addr, cluster.addr(follower));
  EXPECT_EQ(p.leader_id, leader);

  // An oversized frame and garbage close their own connections; the node keeps serving.
  EXPECT_FALSE(exchange(cluster.addr(follower), std::string("\x7f\xff\xff\xff", 4)).has_value());
  EXPECT_FALSE(exchange(cluster.addr(follower), std::string("\x00\x00\x00\x04\x63\x00\x00\x00", 8))
                   .has_value());
  auto again = exchange(cluster.addr(follower), ping);
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(std::holds_alternative<net::PongResponse>(*again));
}

TEST(Tools, WithoutForwardingAFollowerNamesTheLeader) {
  ClusterOptions o;
  o.nodes = 3;
  o.extra_args = {"--no-forward"};
  LocalCluster cluster(o);
  const uint64_t leader = cluster.wait_for_leader(10s);
  ASSERT_NE(leader, 0u) << cluster.logs();
  const uint64_t follower = leader == 1 ? 2 : 1;
  std::string put;
  ASSERT_TRUE(
      net::append_frame(net::ClientRequest{7, net::PutCommand{"k", "v", std::nullopt}}, put).ok());
  auto answer = exchange(cluster.addr(follower), put);
  ASSERT_TRUE(answer.has_value());
  const auto& r = std::get<net::ClientResponse>(*answer);
  EXPECT_EQ(r.request_id, 7u);
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.error, "not leader");
  EXPECT_EQ(r.leader_hint, leader);
  // The leader itself takes the write, and the follower serves the read.
  answer = exchange(cluster.addr(leader), put);
  ASSERT_TRUE(answer.has_value());
  EXPECT_TRUE(std::get<net::ClientResponse>(*answer).success);
  std::string get;
  ASSERT_TRUE(net::append_frame(net::ClientRequest{8, net::GetCommand{"k"}}, get).ok());
  answer = exchange(cluster.addr(follower), get);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(std::get<net::ClientResponse>(*answer).value, "v");
}

}  // namespace
}  // namespace cairn::itest
