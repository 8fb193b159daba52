// RaftMessageWrapper <-> eraftpb::Message conversions, and a full Raft message carried through
// the codec and framing unchanged.
#include "net/raft_message.h"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <cstring>

#include "net/codec.h"
#include "net/frame.h"

namespace cairn::net {
namespace {

using google::protobuf::util::MessageDifferencer;

eraftpb::Message full_message() {
  eraftpb::Message m;
  m.set_msg_type(eraftpb::MsgAppend);
  m.set_to(2);
  m.set_from(1);
  m.set_term(7);
  m.set_log_term(6);
  m.set_index(100);
  m.set_commit(99);
  m.set_commit_term(6);
  m.set_request_snapshot(3);
  m.set_reject(true);
  m.set_reject_hint(42);
  m.set_context(std::string("ctx\0\xff", 5));
  m.set_deprecated_priority(5);
  m.set_priority(-9);
  auto* e1 = m.add_entries();
  e1->set_entry_type(eraftpb::EntryNormal);
  e1->set_term(7);
  e1->set_index(101);
  e1->set_data(std::string("put\0k\0v", 7));
  auto* e2 = m.add_entries();
  e2->set_entry_type(eraftpb::EntryConfChangeV2);
  e2->set_term(7);
  e2->set_index(102);
  e2->set_data("conf");
  e2->set_context("entry-context");
  auto* snap = m.mutable_snapshot();
  snap->set_data(std::string(10000, '\x5a'));
  auto* meta = snap->mutable_metadata();
  meta->set_index(90);
  meta->set_term(5);
  auto* cs = meta->mutable_conf_state();
  cs->add_voters(1);
  cs->add_voters(2);
  cs->add_voters(3);
  cs->add_learners(4);
  cs->add_voters_outgoing(1);
  cs->add_learners_next(5);
  cs->set_auto_leave(true);
  return m;
}

TEST(RaftMessage, FullMessageRoundTripsThroughWrapperCodecAndFrame) {
  const eraftpb::Message original = full_message();
  auto wrapper = from_raft_message(original);
  ASSERT_TRUE(wrapper.ok()) << wrapper.error().to_string();
  EXPECT_EQ(wrapper->data, original.SerializeAsString());

  std::string stream;
  ASSERT_TRUE(append_frame(*wrapper, stream).ok());
  FrameDecoder d;
  auto room = d.prepare(stream.size());
  std::memcpy(room.data(), stream.data(), stream.size());
  d.commit(stream.size());
  auto frame = d.next();
  ASSERT_TRUE(frame.has_value());
  auto msg = decode_message(frame->payload);
  ASSERT_TRUE(msg.ok()) << msg.error().to_string();
  ASSERT_TRUE(std::holds_alternative<RaftMessageWrapper>(*msg));

  auto back = to_raft_message(std::get<RaftMessageWrapper>(*msg));
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_TRUE(MessageDifferencer::Equals(*back, original)) << back->DebugString();
  ASSERT_EQ(back->entries_size(), 2);
  EXPECT_EQ(back->entries(0).data(), std::string("put\0k\0v", 7));
  EXPECT_EQ(back->entries(1).context(), "entry-context");
  EXPECT_EQ(back->snapshot().data().size(), 10000u);
  EXPECT_EQ(back->snapshot().metadata().conf_state().voters_size(), 3);
  EXPECT_EQ(back->priority(), -9);
  EXPECT_EQ(back->context(), std::string("ctx\0\xff", 5));
}

TEST(RaftMessage, DefaultMessageIsEmptyBytesAndBack) {
  auto wrapper = from_raft_message(eraftpb::Message{});
  ASSERT_TRUE(wrapper.ok());
  EXPECT_TRUE(wrapper->data.empty());  // proto3: all-default fields are not written
  auto back = to_raft_message(*wrapper);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->msg_type(), eraftpb::MsgHup);
  EXPECT_EQ(back->term(), 0u);
}

// Protobuf field 1 (msg_type) varint 8 = MsgHeartbeat, field 2 (to) = 3, field 4 (term) = 5:
// bytes written by hand from the protobuf wire format, as a raft-rs node would send them.
TEST(RaftMessage, DecodesHandWrittenProtobuf) {
  auto back = to_raft_message(RaftMessageWrapper{std::string("\x08\x08\x10\x03\x20\x05", 6)});
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(back->msg_type(), eraftpb::MsgHeartbeat);
  EXPECT_EQ(back->to(), 3u);
  EXPECT_EQ(back->term(), 5u);
}

TEST(RaftMessage, InvalidProtobufIsADeserializationError) {
  const std::string bad[] = {
      std::string("\x08", 1),          // field 1 varint, value missing
      std::string("\x08\xff\xff", 3),  // unterminated varint
      std::string("\x3a\x05"
                  "ab",
                  4),              // entries: length 5, only 2 bytes
      std::string("\x0f", 1),      // wire type 7 does not exist
      std::string("\x00\x01", 2),  // field number 0 is invalid
      std::string("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12),  // 11-byte varint
      std::string("\x4a\x02\x12\x09", 4),  // snapshot.metadata length 9 beyond its parent
      std::string("\x0c", 1),              // end-group with no start-group
  };
  for (const std::string& b : bad) {
    auto r = to_raft_message(RaftMessageWrapper{b});
    ASSERT_FALSE(r.ok()) << "accepted " << b.size() << " bytes";
    EXPECT_EQ(r.error().kind(), NetworkError::Kind::kDeserialization);
    EXPECT_EQ(r.error().detail(), "Raft payload of " + std::to_string(b.size()) +
                                      " bytes is not a valid eraftpb.Message protobuf");
  }
}

TEST(RaftMessage, TruncatedFullMessageIsRefusedOrDiffers) {
  // Cut inside a length-delimited field, protobuf cannot parse; cut on a field boundary it
  // parses to a different (shorter) message. Either way the original is never reproduced.
  const std::string bytes = full_message().SerializeAsString();
  size_t refused = 0;
  for (size_t cut = 0; cut < bytes.size(); cut += 7) {
    auto r = to_raft_message(RaftMessageWrapper{bytes.substr(0, cut)});
    if (!r.ok()) {
      ++refused;
      EXPECT_EQ(r.error().kind(), NetworkError::Kind::kDeserialization);
    } else {
      EXPECT_FALSE(MessageDifferencer::Equals(*r, full_message())) << cut;
    }
  }
  EXPECT_GT(refused, 0u);
}

}  // namespace
}  // namespace cairn::net
