// Client sessions in the engine: a write numbered within a session applies once and its repeats
// get the first answer; acknowledged, forgotten, expired and unknown sessions refuse without
// applying; the bounds hold; and the table travels in snapshots.
#include "cache/sessions.h"

#include <gtest/gtest.h>
#include <lz4.h>
#include <xxhash.h>

#include <cstring>

#include "cache/codec.h"
#include "cache/engine.h"
#include "cache/snapshot.h"
#include "test_util.h"

namespace cairn::cache {
namespace {

constexpr int64_t kT0 = 1'700'000'000'000;

class SessionsTest : public ::testing::Test {
 protected:
  uint64_t open(int64_t t = kT0) {
    Reply r = engine.apply(OpenSession{}, t);
    EXPECT_TRUE(std::holds_alternative<int64_t>(r));
    return static_cast<uint64_t>(std::get<int64_t>(r));
  }
  Reply write(uint64_t session, uint64_t seq, uint64_t acked, const Command& inner,
              int64_t t = kT0) {
    return engine.apply(SessionWrite{session, seq, acked, encode_entry(inner, 0)}, t);
  }
  std::optional<Bytes> get(const Bytes& k) { return engine.get(k); }

  Engine engine;
};

bool refused(const Reply& r, std::string_view words) {
  const auto* e = std::get_if<Error>(&r);
  return e != nullptr && e->code == ErrorCode::kSession && e->message.starts_with("SESSION ") &&
         e->message.find(words) != std::string::npos;
}

// Caught mutation: cache-session-repeat-answered.
TEST_F(SessionsTest, ARepeatGetsTheFirstAnswerAndAppliesNothing) {
  const uint64_t s = open();
  EXPECT_EQ(write(s, 1, 1, IncrBy{"n", 5}), Reply{int64_t{5}});
  EXPECT_EQ(write(s, 2, 1, IncrBy{"n", 5}), Reply{int64_t{10}});
  // Write 1 again (a resend after a lost answer), and again later: the first answer each time.
  EXPECT_EQ(write(s, 1, 1, IncrBy{"n", 5}), Reply{int64_t{5}});
  EXPECT_EQ(write(s, 2, 1, IncrBy{"n", 5}), Reply{int64_t{10}});
  EXPECT_EQ(get("n"), "10");
  // A command error is an answer like any other.
  ASSERT_EQ(write(s, 3, 1, testing::put("k", "v")), Reply{Ok{}});
  const Reply first = write(s, 4, 1, IncrBy{"k", 1});
  ASSERT_TRUE(std::holds_alternative<Error>(first));
  ASSERT_EQ(write(s, 5, 1, testing::put("k", "7")), Reply{Ok{}});
  EXPECT_EQ(write(s, 4, 1, IncrBy{"k", 1}), first);  // not 8
  EXPECT_EQ(get("k"), "7");
}

TEST_F(SessionsTest, SessionsAreIndependent) {
  const uint64_t a = open();
  const uint64_t b = open();
  EXPECT_NE(a, b);
  EXPECT_EQ(write(a, 1, 1, IncrBy{"n", 1}), Reply{int64_t{1}});
  EXPECT_EQ(write(b, 1, 1, IncrBy{"n", 1}), Reply{int64_t{2}});
  EXPECT_EQ(engine.stats().sessions, 2u);
}

// Caught mutation: cache-session-acked-floor.
TEST_F(SessionsTest, AcknowledgedAnswersAreForgottenAndTheirRepeatsRefused) {
  const uint64_t s = open();
  ASSERT_EQ(write(s, 1, 1, IncrBy{"n", 1}), Reply{int64_t{1}});
  const uint64_t with_answer = engine.used_memory();
  ASSERT_EQ(write(s, 2, 2, IncrBy{"n", 1}), Reply{int64_t{2}});  // the client has answer 1
  EXPECT_TRUE(refused(write(s, 1, 2, IncrBy{"n", 1}), "answer to write 1"));
  EXPECT_EQ(get("n"), "2");
  ASSERT_EQ(write(s, 3, 3, testing::put("x", std::string(10'000, 'v'))), Reply{Ok{}});
  ASSERT_EQ(write(s, 4, 3, GetDel{"x"}), Reply{Bytes(10'000, 'v')});
  EXPECT_GT(engine.used_memory(), with_answer + 10'000);  // the kept answer is counted
  ASSERT_EQ(write(s, 5, 5, IncrBy{"n", 1}), Reply{int64_t{3}});
  EXPECT_LT(engine.used_memory(), with_answer + 1'000);  // and freed once acknowledged
}

TEST_F(SessionsTest, UnknownSessionAndBadNumbersAreRefusedWithoutApplying) {
  EXPECT_TRUE(refused(write(99, 1, 1, IncrBy{"n", 1}), "client session 99 is unknown"));
  const uint64_t s = open();
  EXPECT_TRUE(refused(write(s, 0, 0, IncrBy{"n", 1}), "start at 1"));
  EXPECT_TRUE(refused(write(s, 1, 1, Tick{}), "cannot be a session's write"));
  EXPECT_TRUE(refused(write(s, 2, 1, OpenSession{}), "cannot be a session's write"));
  EXPECT_TRUE(refused(engine.apply(SessionWrite{s, 3, 1, "junk"}, kT0), "does not decode"));
  EXPECT_EQ(get("n"), std::nullopt);
  EXPECT_EQ(engine.stats().sessions, 1u);
}

TEST_F(SessionsTest, AnIdleSessionExpiresOnTheReplicatedClock) {
  const uint64_t idle = open(kT0);
  const uint64_t busy = open(kT0);
  ASSERT_EQ(write(busy, 1, 1, IncrBy{"n", 1}, kT0 + kSessionIdleMs / 2), Reply{int64_t{1}});
  engine.apply(Tick{}, kT0 + kSessionIdleMs - 1);
  EXPECT_EQ(engine.stats().sessions, 2u);
  engine.apply(Tick{}, kT0 + kSessionIdleMs);
  EXPECT_EQ(engine.stats().sessions, 1u);
  EXPECT_TRUE(refused(write(idle, 1, 1, IncrBy{"n", 1}), "unknown or has expired"));
  // The write on `busy` kept it alive; its answer is still there.
  EXPECT_EQ(write(busy, 1, 1, IncrBy{"n", 1}), Reply{int64_t{1}});
  EXPECT_EQ(get("n"), "1");
}

TEST_F(SessionsTest, AFullTableForgetsTheLeastRecentlyActive) {
  std::vector<uint64_t> ids;
  for (uint64_t i = 0; i < kMaxSessions; ++i)
    ids.push_back(open(kT0 + static_cast<int64_t>(i)));
  // The oldest writes now, so the second oldest is the least recently active.
  const int64_t now = kT0 + static_cast<int64_t>(kMaxSessions);
  ASSERT_EQ(write(ids[0], 1, 1, IncrBy{"n", 1}, now), Reply{int64_t{1}});
  open(now);
  EXPECT_EQ(engine.stats().sessions, kMaxSessions);
  EXPECT_TRUE(refused(write(ids[1], 1, 1, IncrBy{"n", 1}, now), "unknown or has expired"));
  EXPECT_EQ(write(ids[0], 1, 1, IncrBy{"n", 1}, now), Reply{int64_t{1}});
}

TEST_F(SessionsTest, UnacknowledgedAnswersAreBounded) {
  const uint64_t s = open();
  // A client that never acknowledges: the oldest answers go, and their repeats are refused.
  for (uint64_t seq = 1; seq <= kMaxSessionReplies + 2; ++seq)
    ASSERT_EQ(write(s, seq, 1, IncrBy{"n", 1}), Reply{static_cast<int64_t>(seq)});
  EXPECT_TRUE(refused(write(s, 1, 1, IncrBy{"n", 1}), "no longer kept"));
  EXPECT_TRUE(refused(write(s, 2, 1, IncrBy{"n", 1}), "no longer kept"));
  EXPECT_EQ(write(s, 3, 1, IncrBy{"n", 1}), Reply{int64_t{3}});
  EXPECT_EQ(get("n"), std::to_string(kMaxSessionReplies + 2));
}

TEST_F(SessionsTest, TheTableTravelsInSnapshots) {
  const uint64_t s = open();
  ASSERT_EQ(write(s, 1, 1, IncrBy{"n", 1}), Reply{int64_t{1}});
  ASSERT_EQ(write(s, 2, 1, GetDel{"missing"}), Reply{Nil{}});
  ASSERT_EQ(write(s, 3, 1, Append{"a", std::string(100'000, 'x')}), Reply{int64_t{100'000}});
  StringSink sink;
  auto info = write_snapshot(engine, sink);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->sessions, 1u);

  Engine other;
  other.apply(OpenSession{}, kT0);  // replaced by the snapshot's table
  auto loaded = restore_snapshot(other, [&] { return std::make_unique<StringSource>(sink.out); });
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(other.stats().sessions, 1u);
  EXPECT_EQ(other.used_memory(), engine.used_memory());
  auto again = [&](uint64_t seq, const Command& c) {
    return other.apply(SessionWrite{s, seq, 1, encode_entry(c, 0)}, kT0);
  };
  EXPECT_EQ(again(1, IncrBy{"n", 1}), Reply{int64_t{1}});
  EXPECT_EQ(again(2, GetDel{"missing"}), Reply{Nil{}});
  EXPECT_EQ(again(3, Append{"a", "y"}), Reply{int64_t{100'000}});
  EXPECT_EQ(other.get("n"), "1");
  // A session opened after the restore gets an id the snapshot's never had.
  EXPECT_EQ(other.apply(OpenSession{}, kT0), Reply{static_cast<int64_t>(s + 1)});
}

// A snapshot in the format of version 1, which had no session table: one block holding one key.
std::string version1_snapshot() {
  auto le = [](std::string& out, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i)
      out.push_back(static_cast<char>(v >> (8 * i)));
  };
  std::string raw;
  le(raw, static_cast<uint64_t>(kT0), 8);  // clock_ms
  le(raw, 1, 8);                           // entries
  raw += '\0';                             // flags: no expiry
  raw += '\x01';                           // key_len 1
  raw += '\x02';                           // value_len 2
  raw += "kv1";
  std::string comp(static_cast<size_t>(LZ4_compressBound(static_cast<int>(raw.size()))), '\0');
  const int n = LZ4_compress_default(raw.data(), comp.data(), static_cast<int>(raw.size()),
                                     static_cast<int>(comp.size()));
  std::string out(kSnapshotMagic, 8);
  le(out, 1, 4);  // version 1
  le(out, 0, 4);  // flags
  le(out, raw.size(), 4);
  le(out, static_cast<uint64_t>(n), 4);
  le(out, XXH64(raw.data(), raw.size(), 0), 8);
  out.append(comp.data(), static_cast<size_t>(n));
  le(out, 0, 8);  // end marker
  le(out, 1, 8);
  le(out, XXH3_64bits(raw.data(), raw.size()), 8);
  out.append(kSnapshotEndMagic, 8);
  return out;
}

TEST(SessionsSnapshot, AVersion1SnapshotLoadsWithNoSessions) {
  Engine engine;
  engine.apply(OpenSession{}, kT0);
  const std::string v1 = version1_snapshot();
  auto loaded = restore_snapshot(engine, [&] { return std::make_unique<StringSource>(v1); });
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(engine.get("k"), "v1");
  EXPECT_EQ(engine.stats().sessions, 0u);
  EXPECT_EQ(engine.apply(OpenSession{}, kT0), Reply{int64_t{1}});
}

}  // namespace
}  // namespace cairn::cache
