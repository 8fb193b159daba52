// Keeps docs/protocol.md honest: every hex example frame in it (a code block after a
// `<!-- frame: NAME -->` marker) must be exactly what our encoder writes for the message this
// test expects under NAME, and must decode back to it. The test reads the document itself, so
// the page cannot drift from the code.
#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "net/codec.h"
#include "net/frame.h"
#include "net/raft_message.h"

namespace cairn::net {
namespace {

// The message each named example in the document must show.
std::map<std::string, Message> expected_examples() {
  return {
      {"ping", PingRequest{7, "127.0.0.1:9000"}},
      {"pong_leader", PongResponse{2, "10.0.0.2:9000", 1}},
      {"pong_no_leader", PongResponse{2, "10.0.0.2:9000", std::nullopt}},
      {"put", ClientRequest{1, PutCommand{"user:1", "alice", 60000}}},
      {"put_no_ttl", ClientRequest{2, PutCommand{"k", "v", std::nullopt}}},
      {"delete", ClientRequest{3, DeleteCommand{"user:1"}}},
      {"clear", ClientRequest{4, ClearCommand{}}},
      {"get", ClientRequest{5, GetCommand{"user:1"}}},
      {"response_ok", ClientResponse{1, true, std::nullopt, std::nullopt, std::nullopt}},
      {"response_value", ClientResponse{5, true, std::nullopt, std::nullopt, "alice"}},
      {"response_not_leader", ClientResponse{3, false, "not leader", 2, std::nullopt}},
      {"raft", RaftMessageWrapper{std::string("\x08\x08\x10\x03\x18\x01\x20\x05", 8)}},
      {"incr", ClientRequest{6, IncrCommand{"n", 5}}},
      {"cas", ClientRequest{7, CompareAndSetCommand{"k", "a", "b", std::nullopt}}},
      {"expire", ClientRequest{8, ExpireCommand{"k", 10000}}},
      {"persist", ClientRequest{9, PersistCommand{"k"}}},
      {"append", ClientRequest{10, AppendCommand{"k", "x"}}},
      {"getdel", ClientRequest{11, GetDelCommand{"k"}}},
      {"exists", ClientRequest{12, ExistsCommand{"k"}}},
      {"ttl", ClientRequest{13, TtlCommand{"k"}}},
      {"stale_get", ClientRequest{14, StaleGetCommand{"k"}}},
      {"forward", ForwardRequest{2, 0, 1, EngineCommand{std::string("\x01\x02", 2)}}},
      {"forward_reply",
       ForwardReply{ClientResponse{1, true, std::nullopt, std::nullopt, std::nullopt}}},
      {"status_request", StatusRequest{1}},
      {"status_response",
       StatusResponse{1, 1, "leader", 2, 1, 5, 5, 5, {{1, "127.0.0.1:9001", true}}, 3, 4096}},
      {"admin_add", AdminRequest{2, AddNodeCommand{4, "127.0.0.1:9004"}}},
      {"admin_remove", AdminRequest{3, RemoveNodeCommand{4}}},
      {"admin_transfer", AdminRequest{4, TransferLeaderCommand{2}}},
      {"snapshot_chunk",
       SnapshotChunk{1, 7, 0, 3, 0x78af5f94892f3950ull, std::string("\x08\x05", 2), "abc"}},
      {"snapshot_ack", SnapshotAck{2, 7, 3, SnapshotAckStatus::kDone, std::nullopt}},
      {"peer_hello", PeerHello{0x0123456789abcdefull, 2, "127.0.0.1:9001"}},
      {"message_part", MessagePart{32u << 20, "abc"}},
      {"open_session", ClientRequest{15, OpenSessionCommand{}}},
      {"session_request", SessionRequest{16, 42, 7, 5, IncrCommand{"n", 1}}},
  };
}

std::filesystem::path protocol_doc() {
  // __FILE__ is <repo>/tests/unit/net/protocol_doc_test.cc in a CMake build.
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path().parent_path() /
         "docs" / "protocol.md";
}

// Parses hex bytes separated by spaces; `#` starts a comment running to the end of the line.
std::string parse_hex_block(const std::string& block, const std::string& name) {
  std::string out;
  std::istringstream lines(block);
  std::string line;
  while (std::getline(lines, line)) {
    line = line.substr(0, line.find('#'));
    std::istringstream words(line);
    std::string w;
    while (words >> w) {
      EXPECT_TRUE(w.size() == 2 && std::isxdigit(static_cast<unsigned char>(w[0])) &&
                  std::isxdigit(static_cast<unsigned char>(w[1])))
          << name << ": '" << w << "' is not a hex byte";
      out.push_back(static_cast<char>(std::stoi(w, nullptr, 16)));
    }
  }
  return out;
}

std::map<std::string, std::string> examples_in_doc() {
  std::ifstream in(protocol_doc());
  EXPECT_TRUE(in.good()) << "cannot read " << protocol_doc();
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();

  std::map<std::string, std::string> out;
  const std::string marker = "<!-- frame: ";
  for (size_t at = doc.find(marker); at != std::string::npos; at = doc.find(marker, at + 1)) {
    const size_t name_end = doc.find(" -->", at);
    const std::string name = doc.substr(at + marker.size(), name_end - at - marker.size());
    const size_t open = doc.find("```\n", name_end);
    const size_t close = doc.find("\n```", open + 3);
    EXPECT_EQ(doc.substr(name_end + 4, open - name_end - 4), "\n")
        << name << ": the code block must follow its marker directly";
    EXPECT_FALSE(out.count(name)) << name << " appears twice";
    out[name] = parse_hex_block(doc.substr(open + 4, close - open - 4), name);
  }
  return out;
}

TEST(ProtocolDoc, EveryExampleIsPresentAndNoOther) {
  const auto doc = examples_in_doc();
  const auto want = expected_examples();
  for (const auto& [name, msg] : want)
    EXPECT_TRUE(doc.count(name)) << "docs/protocol.md lacks the example '" << name << "'";
  for (const auto& [name, bytes] : doc)
    EXPECT_TRUE(want.count(name)) << "docs/protocol.md has an unchecked example '" << name << "'";
  // One example of every message kind and every command.
  std::set<size_t> kinds, commands;
  for (const auto& [name, msg] : want) {
    kinds.insert(msg.index());
    if (const auto* req = std::get_if<ClientRequest>(&msg)) commands.insert(req->command.index());
  }
  EXPECT_EQ(kinds.size(), std::variant_size_v<Message>);
  EXPECT_EQ(commands.size(), std::variant_size_v<CacheCommand>);
}

TEST(ProtocolDoc, EveryExampleIsTheExactFrame) {
  const auto want = expected_examples();
  for (const auto& [name, bytes] : examples_in_doc()) {
    auto it = want.find(name);
    if (it == want.end()) continue;
    std::string frame;
    ASSERT_TRUE(append_frame(it->second, frame).ok());
    EXPECT_EQ(bytes, frame) << "docs/protocol.md example '" << name << "' differs from the encoder";

    // And read the other way: the length prefix matches, and the payload decodes to the message.
    ASSERT_GE(bytes.size(), kFrameHeaderSize) << name;
    const auto* b = reinterpret_cast<const uint8_t*>(bytes.data());
    const size_t len = (size_t{b[0]} << 24) | (size_t{b[1]} << 16) | (size_t{b[2]} << 8) | b[3];
    EXPECT_EQ(len, bytes.size() - kFrameHeaderSize) << name << ": wrong length prefix";
    auto msg = decode_message(std::span(b + kFrameHeaderSize, bytes.size() - kFrameHeaderSize));
    ASSERT_TRUE(msg.ok()) << name << ": " << msg.error().to_string();
    EXPECT_EQ(*msg, it->second) << name;
  }
}

// The Raft example's protobuf bytes are the heartbeat the text says they are.
TEST(ProtocolDoc, RaftExampleIsAHeartbeat) {
  const auto examples = expected_examples();
  const auto& w = std::get<RaftMessageWrapper>(examples.at("raft"));
  auto m = to_raft_message(w);
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(m->msg_type(), eraftpb::MsgHeartbeat);
  EXPECT_EQ(m->to(), 3u);
  EXPECT_EQ(m->from(), 1u);
  EXPECT_EQ(m->term(), 5u);
  eraftpb::Message hb;
  hb.set_msg_type(eraftpb::MsgHeartbeat);
  hb.set_to(3);
  hb.set_from(1);
  hb.set_term(5);
  EXPECT_EQ(hb.SerializeAsString(), w.data);
}

}  // namespace
}  // namespace cairn::net
