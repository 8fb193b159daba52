// RESP protocol layer throughput: parsing pipelined SET/GET multibulk requests and inline
// requests, command lookup, and encoding the common replies. Reports items/s (requests or
// replies) and bytes/s. Run:
//   ninja -C build server_resp_bench && build/bench/server/server_resp_bench
#include <benchmark/benchmark.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "server/resp/command_table.h"
#include "server/resp/parser.h"
#include "server/resp/reply.h"

namespace cairn::server::resp {
namespace {

std::string multibulk(const std::vector<std::string>& args) {
  std::string s = "*" + std::to_string(args.size()) + "\r\n";
  for (const std::string& a : args)
    s += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return s;
}

// `depth` requests in one buffer, as redis-benchmark -P sends them.
std::string pipeline(const std::string& one, int depth) {
  std::string s;
  for (int i = 0; i < depth; ++i)
    s += one;
  return s;
}

// Parses the whole buffer, request by request, as a connection does after a read.
void parse_buffer(benchmark::State& state, const std::string& buf, int requests) {
  RequestParser parser;
  for (auto _ : state) {
    std::string_view rest = buf;
    size_t args = 0;
    for (;;) {
      const ParseResult r = parser.parse(rest);
      if (r.status != ParseStatus::kComplete) break;
      args += parser.args().size();
      rest.remove_prefix(r.consumed);
    }
    benchmark::DoNotOptimize(args);
  }
  state.SetItemsProcessed(state.iterations() * requests);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(buf.size()));
}

void BM_ParseSetPipelined(benchmark::State& state) {
  const auto value_size = static_cast<size_t>(state.range(0));
  const int depth = static_cast<int>(state.range(1));
  const std::string one = multibulk({"SET", "key:000000012345", std::string(value_size, 'v')});
  parse_buffer(state, pipeline(one, depth), depth);
}
BENCHMARK(BM_ParseSetPipelined)->Args({32, 1})->Args({32, 16})->Args({1024, 16});

void BM_ParseGetPipelined(benchmark::State& state) {
  const int depth = static_cast<int>(state.range(0));
  parse_buffer(state, pipeline(multibulk({"GET", "key:000000012345"}), depth), depth);
}
BENCHMARK(BM_ParseGetPipelined)->Arg(1)->Arg(16);

void BM_ParseInline(benchmark::State& state) {
  const int depth = static_cast<int>(state.range(0));
  parse_buffer(state, pipeline("SET key:000000012345 " + std::string(32, 'v') + "\r\n", depth),
               depth);
}
BENCHMARK(BM_ParseInline)->Arg(1)->Arg(16);

void BM_ParseInlineQuoted(benchmark::State& state) {
  parse_buffer(state, pipeline("SET \"key with space\" \"a\\x00b\\r\\nvalue\"\r\n", 16), 16);
}
BENCHMARK(BM_ParseInlineQuoted);

// A 1 MiB value arriving in 16 KiB reads (65 parse calls): the parser never rescans what it has
// seen and never touches a bulk's bytes, so each call is O(1) and bytes/s is far above memory
// bandwidth. items/s counts parse calls.
void BM_ParseLargeValueInReads(benchmark::State& state) {
  const std::string buf = multibulk({"SET", "k", std::string(1 << 20, 'v')});
  constexpr size_t kRead = 16 * 1024;
  RequestParser parser;
  int64_t calls = 0;
  for (auto _ : state) {
    size_t have = 0;
    ParseResult r{ParseStatus::kNeedMore, 0};
    while (r.status == ParseStatus::kNeedMore) {
      have = std::min(buf.size(), have + kRead);
      r = parser.parse(std::string_view(buf).substr(0, have));
      ++calls;
    }
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(calls);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(buf.size()));
}
BENCHMARK(BM_ParseLargeValueInReads);

void BM_LookupAndArity(benchmark::State& state) {
  const std::vector<std::string_view> argv = {"set", "key:000000012345", "value"};
  std::string error;
  for (auto _ : state) {
    benchmark::DoNotOptimize(resolve(argv, error));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LookupAndArity);

// The replies of a pipelined GET/SET batch: bulk values, +OK, integers, nulls.
void BM_EncodeReplies(benchmark::State& state) {
  const Protocol protocol = state.range(0) == 3 ? Protocol::kResp3 : Protocol::kResp2;
  const std::string value(32, 'v');
  std::string out;
  for (auto _ : state) {
    out.clear();
    ReplyWriter w(out, protocol);
    for (int i = 0; i < 4; ++i) {
      w.bulk(value);
      w.ok();
      w.integer(12345 + i);
      w.null();
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * 16);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(out.size()));
}
BENCHMARK(BM_EncodeReplies)->Arg(2)->Arg(3);

void BM_EncodeDouble(benchmark::State& state) {
  std::string out;
  double d = 3.14159;
  for (auto _ : state) {
    out.clear();
    ReplyWriter w(out, Protocol::kResp3);
    w.real(d);
    d += 1.0;
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncodeDouble);

}  // namespace
}  // namespace cairn::server::resp
