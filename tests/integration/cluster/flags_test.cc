// cairn-server's flags and config file, checked on the real binary: every invalid value is
// refused with a message naming the flag and exit code 2; a TOML config file is honoured.
#include <gtest/gtest.h>

#include <fstream>

#include "harness.h"

namespace cairn::itest {
namespace {

struct Refusal {
  std::vector<std::string> args;
  std::string says;  // part of the message
};

TEST(ServerFlags, InvalidValuesExitWithCodeTwoAndSayWhy) {
  TempDir dir;
  const std::vector<Refusal> cases = {
      {{"--max-memory=12zb"}, "--max-memory 12zb"},
      {{"--max-memory=99999999999999999999gb"}, "--max-memory"},
      {{"--eviction=lru"}, "--eviction lru"},
      {{"--compact-bytes=10kb"}, "--compact-bytes 10kb"},
      {{"--compact-bytes=lots"}, "--compact-bytes lots"},
      {{"--snapshot-chunk-bytes=1kb"}, "--snapshot-chunk-bytes 1kb"},
      {{"--snapshot-chunk-bytes=9mb"}, "--snapshot-chunk-bytes 9mb"},
      {{"--wal-segment-bytes=100kb"}, "--wal-segment-bytes 100kb"},
      {{"--peers=1=nope"}, "--peers"},
      {{"--peers=1=127.0.0.1:9000,1=127.0.0.1:9001"}, "appears twice"},
      {{"--peers=2=127.0.0.1:9000"}, "must include this node"},
      {{"--peers=1=127.0.0.1:9001"}, "--listen is 127.0.0.1:9000"},
      {{"--peers=x=127.0.0.1:9000"}, "not a node id"},
      {{"--join=127.0.0.1:9001", "--peers=1=127.0.0.1:9000"}, "cannot be used together"},
      {{"--join=127.0.0.1:9001", "--cluster-token=x"}, "--cluster-token"},
      {{"--id=0"}, "--id"},
      {{"--listen=nope"}, "--listen nope"},
      {{"--resp=1.2.3.4:99999"}, "--resp"},
      {{"--join=host:"}, "--join"},
      {{"--tick-ms=0"}, "--tick-ms"},
      {{"--election-ticks=1"}, "--election-ticks"},
      {{"--resp-threads=-1"}, "--resp-threads"},
      {{"--resp-threads=1000"}, "--resp-threads"},
      {{"--log-level=loud"}, "--log-level"},
      {{"--config=/no/such/file.toml"}, "--config"},
      {{"--no-such-flag"}, "no-such-flag"},
  };
  int n = 0;
  for (const auto& c : cases) {
    const std::string log = dir.path() + "/run-" + std::to_string(n++) + ".log";
    ServerProcess p(server_binary(), c.args, log);
    p.start();
    const auto code = p.wait_exit(10s);
    ASSERT_TRUE(code.has_value()) << c.args[0] << " did not exit";
    EXPECT_EQ(*code, 2) << c.args[0] << "\n" << p.log_tail();
    EXPECT_NE(p.log_tail().find(c.says), std::string::npos)
        << c.args[0] << " should mention '" << c.says << "':\n"
        << p.log_tail();
  }
}

TEST(ServerFlags, ConfigFileIsHonouredAndCommandLineWins) {
  TempDir dir;
  const uint16_t port = free_port();
  const std::string config = dir.path() + "/cairn.toml";
  std::ofstream(config) << "# a node from a file\n"
                        << "id = 7\n"
                        << "listen = \"127.0.0.1:" << port << "\"\n"
                        << "resp = \"127.0.0.1:0\"\n"
                        << "max-memory = \"24mb\"\n"
                        << "eviction = \"sieve\"\n"
                        << "tick-ms = 20\n"
                        << "data-dir = \"" << dir.path() << "/data\"\n";
  ServerProcess p(server_binary(), {"--config=" + config, "--id=8", "--log-level=warn"},
                  dir.path() + "/server.log");
  p.start();
  client::Options o;
  o.seeds = {"127.0.0.1:" + std::to_string(port)};
  auto c = client::Client::create(o);
  ASSERT_TRUE(c.ok());
  std::optional<net::StatusResponse> status;
  ASSERT_TRUE(LocalCluster::eventually(
      [&] {
        auto s = (*c)->status();
        if (s.ok() && s->role == "leader") status = *s;
        return status.has_value();
      },
      10s))
      << p.log_tail();
  EXPECT_EQ(status->node_id, 8u);  // the command line's --id, not the file's
  ASSERT_EQ(status->members.size(), 1u);
  p.signal(SIGTERM);
  auto code = p.wait_exit(10s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << p.log_tail();

  // An unknown key in the file is refused like an unknown flag.
  std::ofstream(config, std::ios::app) << "bogus-key = 1\n";
  ServerProcess bad(server_binary(), {"--config=" + config}, dir.path() + "/bad.log");
  bad.start();
  code = bad.wait_exit(10s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 2) << bad.log_tail();
  EXPECT_NE(bad.log_tail().find("bogus"), std::string::npos) << bad.log_tail();
}

}  // namespace
}  // namespace cairn::itest
