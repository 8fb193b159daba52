// hiredis (Debian's libhiredis, the C client most Redis clients in other languages wrap) against a
// real cairn-server: commands, binary values, pipelining with answers in request order, errors.
// The suite starts one single-node cairn-server on free ports with a temporary --data-dir and
// stops it by its PID; every wait is bounded.
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "resp_client.h"

namespace {

using Clock = std::chrono::steady_clock;

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

using cairn::itest::Context;
using cairn::itest::Reply;

// One cairn-server process for the whole suite.
class Server {
 public:
  void start() {
    dir_ = std::filesystem::temp_directory_path() / ("cairn-hiredis-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    port_ = free_port();
    const std::string listen = "127.0.0.1:" + std::to_string(free_port());
    const std::string resp = "127.0.0.1:" + std::to_string(port_);
    const std::string data = (dir_ / "node-1").string();
    pid_ = fork();
    if (pid_ == 0) {
      execl(CAIRN_SERVER_PATH, CAIRN_SERVER_PATH, "--listen", listen.c_str(), "--resp",
            resp.c_str(), "--data-dir", data.c_str(), "--tick-ms", "20", "--log-level", "warn",
            static_cast<char*>(nullptr));
      _exit(127);
    }
  }

  // Polls PING until the node answers (it has elected itself), within the deadline.
  bool ready(std::chrono::seconds deadline) {
    const auto end = Clock::now() + deadline;
    while (Clock::now() < end) {
      Context c(connect());
      if (c) {
        Reply r(static_cast<redisReply*>(redisCommand(c.get(), "SET __ready 1")));
        if (r && r->type == REDIS_REPLY_STATUS) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  redisContext* connect() const {
    timeval tv{5, 0};
    redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, tv);
    if (c != nullptr && c->err != 0) {
      redisFree(c);
      return nullptr;
    }
    if (c != nullptr) redisSetTimeout(c, tv);
    return c;
  }

  // Returns the exit status: 0 after a clean shutdown (no crash, no sanitizer report).
  int stop() {
    if (pid_ <= 0) return 0;
    kill(pid_, SIGTERM);
    const auto end = Clock::now() + std::chrono::seconds(15);
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (Clock::now() > end) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid_ = -1;
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::filesystem::path dir_;
};

Server* server = nullptr;

class Hiredis : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server = new Server;
    server->start();
    ASSERT_TRUE(server->ready(std::chrono::seconds(20))) << "cairn-server did not start";
  }
  static void TearDownTestSuite() {
    EXPECT_EQ(server->stop(), 0) << "cairn-server did not shut down cleanly";
    delete server;
    server = nullptr;
  }
  void SetUp() override {
    c_.reset(server->connect());
    ASSERT_TRUE(c_);
    EXPECT_EQ(cmd("FLUSHALL")->type, REDIS_REPLY_STATUS);
  }

  template <typename... Args>
  Reply cmd(const char* format, Args... args) {
    return Reply(static_cast<redisReply*>(redisCommand(c_.get(), format, args...)));
  }
  Reply next() {
    void* r = nullptr;
    if (redisGetReply(c_.get(), &r) != REDIS_OK) return nullptr;
    return Reply(static_cast<redisReply*>(r));
  }

  Context c_;
};

TEST_F(Hiredis, SetGetAndTypes) {
  auto r = cmd("SET k hello");
  ASSERT_EQ(r->type, REDIS_REPLY_STATUS);
  EXPECT_STREQ(r->str, "OK");
  r = cmd("GET k");
  ASSERT_EQ(r->type, REDIS_REPLY_STRING);
  EXPECT_EQ(std::string(r->str, r->len), "hello");
  r = cmd("GET missing");
  EXPECT_EQ(r->type, REDIS_REPLY_NIL);
  r = cmd("INCRBY n 41");
  ASSERT_EQ(r->type, REDIS_REPLY_INTEGER);
  EXPECT_EQ(r->integer, 41);
  r = cmd("MGET k missing");
  ASSERT_EQ(r->type, REDIS_REPLY_ARRAY);
  ASSERT_EQ(r->elements, 2u);
  EXPECT_EQ(r->element[1]->type, REDIS_REPLY_NIL);
}

TEST_F(Hiredis, BinaryAndLargeValues) {
  std::string value(1 << 20, '\0');
  for (size_t i = 0; i < value.size(); ++i)
    value[i] = static_cast<char>(i * 31 + 7);
  auto r = cmd("SET %b %b", "bin\0key", size_t{7}, value.data(), value.size());
  ASSERT_EQ(r->type, REDIS_REPLY_STATUS);
  r = cmd("GET %b", "bin\0key", size_t{7});
  ASSERT_EQ(r->type, REDIS_REPLY_STRING);
  EXPECT_EQ(std::string(r->str, r->len), value);
  r = cmd("STRLEN %b", "bin\0key", size_t{7});
  EXPECT_EQ(r->integer, static_cast<long long>(value.size()));
}

TEST_F(Hiredis, PipelinedAnswersKeepRequestOrder) {
  constexpr int kRounds = 1000;
  for (int i = 0; i < kRounds; ++i) {
    redisAppendCommand(c_.get(), "INCR counter");
    redisAppendCommand(c_.get(), "GET counter");
    redisAppendCommand(c_.get(), "PING");
  }
  for (int i = 1; i <= kRounds; ++i) {
    auto incr = next();
    ASSERT_TRUE(incr);
    ASSERT_EQ(incr->type, REDIS_REPLY_INTEGER);
    EXPECT_EQ(incr->integer, i);
    auto get = next();
    ASSERT_EQ(get->type, REDIS_REPLY_STRING);
    EXPECT_EQ(std::string(get->str, get->len), std::to_string(i));
    auto ping = next();
    ASSERT_EQ(ping->type, REDIS_REPLY_STATUS);
    EXPECT_STREQ(ping->str, "PONG");
  }
}

TEST_F(Hiredis, ErrorsAsRedisWordsThem) {
  auto r = cmd("GET");
  ASSERT_EQ(r->type, REDIS_REPLY_ERROR);
  EXPECT_STREQ(r->str, "ERR wrong number of arguments for 'get' command");
  cmd("SET s text");
  r = cmd("INCR s");
  ASSERT_EQ(r->type, REDIS_REPLY_ERROR);
  EXPECT_STREQ(r->str, "ERR value is not an integer or out of range");
  r = cmd("NOSUCH a");
  ASSERT_EQ(r->type, REDIS_REPLY_ERROR);
  EXPECT_STREQ(r->str, "ERR unknown command 'NOSUCH', with args beginning with: 'a' ");
  // The connection stays usable after command errors.
  r = cmd("PING");
  EXPECT_STREQ(r->str, "PONG");
}

TEST_F(Hiredis, CompareAndSet) {
  cmd("SET k v1");
  auto r = cmd("CAS k v0 v2");
  EXPECT_EQ(r->integer, 0);
  r = cmd("CAS k v1 v2");
  EXPECT_EQ(r->integer, 1);
  r = cmd("GET k");
  EXPECT_EQ(std::string(r->str, r->len), "v2");
}

TEST_F(Hiredis, ManyConnectionsAtOnce) {
  std::vector<Context> clients;
  for (int i = 0; i < 20; ++i) {
    clients.emplace_back(server->connect());
    ASSERT_TRUE(clients.back());
    redisAppendCommand(clients.back().get(), "SET conn:%d %d", i, i);
  }
  for (auto& c : clients) {
    void* r = nullptr;
    ASSERT_EQ(redisGetReply(c.get(), &r), REDIS_OK);
    freeReplyObject(r);
  }
  auto r = cmd("DBSIZE");
  EXPECT_EQ(r->integer, 20);
}

}  // namespace
