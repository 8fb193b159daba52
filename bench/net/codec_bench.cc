// Codec throughput: bincode encode and decode of each message shape the node handles most, and
// FrameDecoder splitting a stream of many small frames. Reports bytes/s (payload bytes) and
// items/s (messages). Run:
//   ninja -C build net_codec_bench && build/bench/net/net_codec_bench
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>
#include <vector>

#include "net/codec.h"
#include "net/frame.h"

namespace cairn::net {
namespace {

// Reports `items` messages and `bytes` bytes per iteration.
void count(benchmark::State& state, size_t items, size_t bytes) {
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(items));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes));
}

Message ping() {
  return PingRequest{7, "127.0.0.1:9000"};
}
Message put_32() {
  return ClientRequest{42, PutCommand{"user:12345", std::string(32, 'v'), 60000}};
}
Message put_1k() {
  return ClientRequest{42, PutCommand{"user:12345", std::string(1024, 'v'), 60000}};
}
Message response() {
  return ClientResponse{42, true, std::nullopt, std::nullopt, std::string(32, 'v')};
}
Message raft_64k() {
  return RaftMessageWrapper{std::string(64 * 1024, 'r')};
}

void encode(benchmark::State& state, Message (*make)()) {
  const Message msg = make();
  std::string out;
  for (auto _ : state) {
    out.clear();  // reuse the buffer, as a connection's write buffer is reused
    encode_message(msg, out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  count(state, 1, out.size());
}

void decode(benchmark::State& state, Message (*make)()) {
  const std::string bytes = encode_message(make());
  const std::span<const uint8_t> in(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  for (auto _ : state) {
    auto msg = decode_message(in);
    if (!msg.ok()) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(msg);
  }
  count(state, 1, bytes.size());
}

BENCHMARK_CAPTURE(encode, ping, ping);
BENCHMARK_CAPTURE(decode, ping, ping);
BENCHMARK_CAPTURE(encode, put_32B, put_32);
BENCHMARK_CAPTURE(decode, put_32B, put_32);
BENCHMARK_CAPTURE(encode, put_1KiB, put_1k);
BENCHMARK_CAPTURE(decode, put_1KiB, put_1k);
BENCHMARK_CAPTURE(encode, response, response);
BENCHMARK_CAPTURE(decode, response, response);
BENCHMARK_CAPTURE(encode, raft_64KiB, raft_64k);
BENCHMARK_CAPTURE(decode, raft_64KiB, raft_64k);

// A 64 KiB read's worth of pipelined Put frames (32-byte values), fed to a FrameDecoder in
// chunks of state.range(0) bytes and split into frames; the payloads are not decoded.
void frame_split(benchmark::State& state) {
  std::string stream;
  size_t frames = 0;
  while (stream.size() < 64 * 1024) {
    if (!append_frame(put_32(), stream).ok()) state.SkipWithError("append_frame failed");
    ++frames;
  }
  const auto chunk = static_cast<size_t>(state.range(0));
  FrameDecoder decoder;
  for (auto _ : state) {
    size_t got = 0;
    for (size_t pos = 0; pos < stream.size(); pos += chunk) {
      const size_t n = std::min(chunk, stream.size() - pos);
      auto room = decoder.prepare(n);
      std::memcpy(room.data(), stream.data() + pos, n);
      decoder.commit(n);
      while (auto f = decoder.next()) {
        benchmark::DoNotOptimize(f->payload.data());
        ++got;
      }
    }
    if (got != frames) state.SkipWithError("lost frames");
  }
  count(state, frames, stream.size());
}
BENCHMARK(frame_split)->Arg(1500)->Arg(64 * 1024);

// Splitting plus decoding every frame: the whole receive path short of the socket.
void frame_split_and_decode(benchmark::State& state) {
  std::string stream;
  size_t frames = 0;
  while (stream.size() < 64 * 1024) {
    if (!append_frame(put_32(), stream).ok()) state.SkipWithError("append_frame failed");
    ++frames;
  }
  FrameDecoder decoder;
  for (auto _ : state) {
    auto room = decoder.prepare(stream.size());
    std::memcpy(room.data(), stream.data(), stream.size());
    decoder.commit(stream.size());
    while (auto f = decoder.next()) {
      auto msg = decode_message(f->payload);
      benchmark::DoNotOptimize(msg);
    }
  }
  count(state, frames, stream.size());
}
BENCHMARK(frame_split_and_decode);

}  // namespace
}  // namespace cairn::net
