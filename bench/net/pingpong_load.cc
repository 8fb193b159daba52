// net_pingpong_load: a loopback Ping/Pong load against a cairn-server, measured the way
// redis-benchmark measures (so the two can be compared in one run): each connection sends a
// batch of `pipeline` Pings, waits for all their Pongs, and repeats; a request's latency runs from
// the write of its batch to the arrival of its answer. Single-threaded, like redis-benchmark.
//
//   net_pingpong_load --addr 127.0.0.1:9000 --connections 64 --pipeline 16 --requests 1000000
//
// Prints a human summary and, with --csv, one line: connections,pipeline,requests,rps,p50_ms,p99_ms
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <chrono>
#include <vector>

#include "net/address.h"
#include "net/codec.h"
#include "net/frame.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace cairn::net;

struct Options {
  std::string addr = "127.0.0.1:9000";
  unsigned connections = 1;
  unsigned pipeline = 1;
  uint64_t requests = 100000;
  bool csv = false;
};

struct Shared {
  uint64_t remaining = 0;  // batches not yet started, counted in requests
  uint64_t errors = 0;
  std::vector<uint32_t> latencies_us;  // one per answered request
};

asio::awaitable<void> drive(asio::ip::tcp::endpoint ep, const Options& opt, Shared& shared) {
  auto exec = co_await asio::this_coro::executor;
  asio::ip::tcp::socket socket(exec);
  std::error_code ec;
  co_await socket.async_connect(ep, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    fmt::print(stderr, "connect to {} failed: {}\n", opt.addr, ec.message());
    ++shared.errors;
    co_return;
  }
  socket.set_option(asio::ip::tcp::no_delay(true));
  std::string batch;
  for (unsigned i = 0; i < opt.pipeline; ++i) {
    if (!append_frame(PingRequest{0, "127.0.0.1:0"}, batch).ok()) co_return;
  }
  FrameDecoder decoder;
  while (shared.remaining > 0) {
    const uint64_t n = std::min<uint64_t>(opt.pipeline, shared.remaining);
    shared.remaining -= n;
    const auto start = Clock::now();
    const size_t bytes = batch.size() / opt.pipeline * n;
    co_await asio::async_write(socket, asio::buffer(batch.data(), bytes),
                               asio::redirect_error(asio::use_awaitable, ec));
    uint64_t answered = 0;
    while (!ec && answered < n) {
      auto room = decoder.prepare(16 * 1024);
      size_t got = co_await socket.async_read_some(asio::buffer(room.data(), room.size()),
                                                   asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      decoder.commit(got);
      while (auto frame = decoder.next()) {
        auto msg = decode_message(frame->payload);
        if (!msg.ok() || !std::holds_alternative<PongResponse>(*msg)) ++shared.errors;
        ++answered;
        auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
        shared.latencies_us.push_back(static_cast<uint32_t>(us.count()));
      }
    }
    if (ec) {
      fmt::print(stderr, "connection failed: {}\n", ec.message());
      ++shared.errors;
      co_return;
    }
  }
}

double percentile_ms(std::vector<uint32_t>& v, double p) {
  if (v.empty()) return 0;
  size_t k = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<ptrdiff_t>(k), v.end());
  return v[k] / 1000.0;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  CLI::App app{"Ping/Pong load against a cairn-server"};
  app.add_option("--addr", opt.addr, "server HOST:PORT");
  app.add_option("--connections,-c", opt.connections)->check(CLI::Range(1u, 10000u));
  app.add_option("--pipeline,-P", opt.pipeline)->check(CLI::Range(1u, 100000u));
  app.add_option("--requests,-n", opt.requests)->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40));
  app.add_flag("--csv", opt.csv, "print one CSV line");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  auto ep = parse_endpoint(opt.addr);
  if (!ep.ok()) {
    fmt::print(stderr, "--addr: {}\n", ep.error());
    return 2;
  }
  asio::io_context io(1);
  Shared shared;
  shared.remaining = opt.requests;
  shared.latencies_us.reserve(opt.requests);
  const auto start = Clock::now();
  for (unsigned i = 0; i < opt.connections; ++i) {
    asio::co_spawn(io, drive(*ep, opt, shared), asio::detached);
  }
  io.run();
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  const double rps = static_cast<double>(shared.latencies_us.size()) / secs;
  const double p50 = percentile_ms(shared.latencies_us, 0.50);
  const double p99 = percentile_ms(shared.latencies_us, 0.99);
  if (opt.csv) {
    fmt::print("{},{},{},{:.0f},{:.3f},{:.3f}\n", opt.connections, opt.pipeline,
               shared.latencies_us.size(), rps, p50, p99);
  } else {
    fmt::print(
        "{} requests, {} connections, pipeline {}: {:.0f} msg/s, p50 {:.3f} ms, p99 {:.3f} ms\n",
        shared.latencies_us.size(), opt.connections, opt.pipeline, rps, p50, p99);
  }
  if (shared.errors > 0) {
    fmt::print(stderr, "{} errors\n", shared.errors);
    return 1;
  }
  return 0;
}
