// NetworkError: every kind's text says what failed and carries the address or reason given.
#include "net/error.h"

#include <gtest/gtest.h>

#include <asio/error.hpp>

namespace cairn::net {
namespace {

bool contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

TEST(NetworkError, ConnectionFailedNamesAddressAndReason) {
  const auto e = NetworkError::connection_failed("10.0.0.5:9000", "Connection refused");
  EXPECT_EQ(e.kind(), NetworkError::Kind::kConnectionFailed);
  EXPECT_EQ(e.addr(), "10.0.0.5:9000");
  EXPECT_EQ(e.detail(), "Connection refused");
  EXPECT_EQ(e.to_string(),
            "connection to 10.0.0.5:9000 failed: Connection refused "
            "(is a cairn-server listening on 10.0.0.5:9000?)");
}

TEST(NetworkError, ConnectionFailedHintOnlyWhenRefused) {
  const auto e = NetworkError::connection_failed("db1:9000", "Host not found (authoritative)");
  EXPECT_EQ(e.to_string(), "connection to db1:9000 failed: Host not found (authoritative)");
  EXPECT_FALSE(contains(e.to_string(), "listening"));
}

TEST(NetworkError, ConnectionClosed) {
  const auto e = NetworkError::connection_closed();
  EXPECT_EQ(e.kind(), NetworkError::Kind::kConnectionClosed);
  EXPECT_EQ(e.to_string(), "connection closed by the peer");
}

TEST(NetworkError, SendAndReceiveFailedCarryTheReason) {
  const auto s = NetworkError::send_failed("Broken pipe writing to 10.0.0.2:9000");
  EXPECT_EQ(s.kind(), NetworkError::Kind::kSendFailed);
  EXPECT_EQ(s.to_string(), "send failed: Broken pipe writing to 10.0.0.2:9000");
  const auto r = NetworkError::receive_failed("Connection reset by peer from 10.0.0.3:9000");
  EXPECT_EQ(r.kind(), NetworkError::Kind::kReceiveFailed);
  EXPECT_EQ(r.to_string(), "receive failed: Connection reset by peer from 10.0.0.3:9000");
}

TEST(NetworkError, SerializationAndDeserialization) {
  const auto s = NetworkError::serialization("Raft message of 20000000 bytes exceeds the limit");
  EXPECT_EQ(s.kind(), NetworkError::Kind::kSerialization);
  EXPECT_EQ(s.to_string(),
            "cannot encode message: Raft message of 20000000 bytes exceeds the limit");
  const auto d = NetworkError::deserialization("unknown Message variant tag 9 (at byte 4)");
  EXPECT_EQ(d.kind(), NetworkError::Kind::kDeserialization);
  EXPECT_EQ(d.detail(), "unknown Message variant tag 9 (at byte 4)");
  EXPECT_EQ(d.to_string(), "malformed message: unknown Message variant tag 9 (at byte 4)");
}

TEST(NetworkError, IoCarriesContextAndTheSystemMessage) {
  const auto code = std::make_error_code(std::errc::too_many_files_open);
  const auto e = NetworkError::io(code, "accept on 0.0.0.0:9000");
  EXPECT_EQ(e.kind(), NetworkError::Kind::kIo);
  EXPECT_EQ(e.code(), code);
  EXPECT_EQ(e.to_string(), "I/O error (accept on 0.0.0.0:9000): " + code.message());
  EXPECT_TRUE(contains(e.to_string(), "Too many open files")) << e.to_string();

  const auto bare = NetworkError::io(asio::error::make_error_code(asio::error::address_in_use));
  EXPECT_EQ(bare.to_string(), "I/O error: " + bare.code().message());
  EXPECT_TRUE(contains(bare.to_string(), "in use")) << bare.to_string();
}

TEST(NetworkError, KindNames) {
  EXPECT_STREQ(to_string(NetworkError::Kind::kConnectionFailed), "ConnectionFailed");
  EXPECT_STREQ(to_string(NetworkError::Kind::kConnectionClosed), "ConnectionClosed");
  EXPECT_STREQ(to_string(NetworkError::Kind::kSendFailed), "SendFailed");
  EXPECT_STREQ(to_string(NetworkError::Kind::kReceiveFailed), "ReceiveFailed");
  EXPECT_STREQ(to_string(NetworkError::Kind::kSerialization), "Serialization");
  EXPECT_STREQ(to_string(NetworkError::Kind::kDeserialization), "Deserialization");
  EXPECT_STREQ(to_string(NetworkError::Kind::kIo), "Io");
}

TEST(NetworkError, CopiesAreEqualInEveryField) {
  const auto e = NetworkError::connection_failed("h:1", "timed out");
  const NetworkError copy = e;  // NOLINT: copying is the point
  EXPECT_EQ(copy.kind(), e.kind());
  EXPECT_EQ(copy.addr(), "h:1");
  EXPECT_EQ(copy.to_string(), e.to_string());
}

}  // namespace
}  // namespace cairn::net
