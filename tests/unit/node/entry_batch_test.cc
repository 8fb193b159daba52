#include "node/entry_batch.h"

#include <gtest/gtest.h>

#include "cache/codec.h"

namespace cairn::node {
namespace {

TEST(EntryBatch, CommandsComeBackInOrderAndIntact) {
  BatchBuilder b;
  const std::vector<std::string> commands = {"a", std::string(300, 'x'), std::string("\0\1", 2)};
  for (const auto& c : commands)
    b.add(c);
  const std::string entry = b.finish();
  EXPECT_TRUE(is_batch(entry));
  auto back = decode_batch(entry);
  ASSERT_TRUE(back.ok()) << back.error();
  ASSERT_EQ(back->size(), commands.size());
  for (size_t i = 0; i < commands.size(); ++i)
    EXPECT_EQ((*back)[i], commands[i]);
}

TEST(EntryBatch, SingleCommandEntriesAreNotBatches) {
  EXPECT_FALSE(is_batch(std::string("\x01rest", 5)));
  EXPECT_FALSE(is_batch(""));
}

TEST(EntryBatch, TruncationForgedCountsAndTrailingBytesAreRefused) {
  BatchBuilder b;
  b.add("hello");
  b.add("world");
  const std::string entry = b.finish();
  for (size_t cut = 1; cut < entry.size(); ++cut)
    EXPECT_FALSE(decode_batch(entry.substr(0, cut)).ok()) << "cut at " << cut;
  EXPECT_FALSE(decode_batch(entry + "x").ok());
  const std::string forged = std::string(1, kBatchMarker) + "\xff\xff\xff\xff\x0f";
  auto r = decode_batch(forged);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("exceeds"), std::string::npos) << r.error();
}

TEST(EntryFragment, FragmentsSayWhichWriteAndWhereTheirBytesGo) {
  const std::string bytes(1000, 'v');
  const std::string entry = encode_fragment(4242, 3000, 2000, bytes);
  EXPECT_TRUE(is_fragment(entry));
  EXPECT_FALSE(is_batch(entry));
  auto f = decode_fragment(entry);
  ASSERT_TRUE(f.ok()) << f.error();
  EXPECT_EQ(f->first, 4242u);
  EXPECT_EQ(f->total, 3000u);
  EXPECT_EQ(f->offset, 2000u);
  EXPECT_EQ(f->bytes, bytes);
  EXPECT_TRUE(f->last());
  EXPECT_FALSE(f->abort());
  auto middle = decode_fragment(encode_fragment(4242, 3000, 1000, bytes));
  ASSERT_TRUE(middle.ok());
  EXPECT_FALSE(middle->last());
  auto abort = decode_fragment(encode_fragment(4242, 0, 0, {}));
  ASSERT_TRUE(abort.ok());
  EXPECT_TRUE(abort->abort());
  EXPECT_FALSE(abort->last());
  EXPECT_FALSE(is_fragment(std::string("\x01rest", 5)));
}

TEST(EntryFragment, TruncatedHeadersAndBytesPastTheWriteAreRefused) {
  const std::string entry = encode_fragment(1u << 20, 1u << 30, 1u << 29, "abc");
  for (size_t cut = 1; cut < 10; ++cut)
    EXPECT_FALSE(decode_fragment(entry.substr(0, cut)).ok()) << "cut at " << cut;
  EXPECT_FALSE(decode_fragment(encode_fragment(7, 10, 8, "abc")).ok());  // runs past the end
  EXPECT_FALSE(decode_fragment(encode_fragment(7, 10, 11, "")).ok());    // starts past it
  EXPECT_FALSE(decode_fragment(encode_fragment(7, 0, 0, "x")).ok());     // an abort with bytes
  EXPECT_FALSE(decode_fragment(encode_fragment(7, 0, 3, "")).ok());      // or an offset
  EXPECT_TRUE(decode_fragment(encode_fragment(7, 10, 7, "abc")).ok());
}

TEST(EntryBatch, StampedCommandsDecodeToThemselvesAndOversizedOnesAreLeftOut) {
  BatchBuilder b;
  cache::Put put;
  put.key = "key:000000012345";
  put.value = std::string(32, 'v');
  EXPECT_EQ(b.add_stamped(cache::encode_entry(put, 0), 1234, 1 << 20),
            cache::encode_entry(put, 1234).size());
  cache::Put big = put;
  big.value = std::string(2000, 'b');
  EXPECT_GT(b.add_stamped(cache::encode_entry(big, 0), 1234, 1000), 1000u);  // refused
  EXPECT_EQ(b.count(), 1u);
  const std::string entry = b.finish();
  auto back = decode_batch(entry);
  ASSERT_TRUE(back.ok()) << back.error();
  ASSERT_EQ(back->size(), 1u);
  auto cmd = cache::decode_entry((*back)[0]);
  ASSERT_TRUE(cmd.ok());
  EXPECT_EQ(cmd->time_ms, 1234);
  EXPECT_EQ(std::get<cache::Put>(cmd->command).key, put.key);
  EXPECT_EQ(std::get<cache::Put>(cmd->command).value, put.value);
  // The builder starts over after finish().
  EXPECT_EQ(b.count(), 0u);
  b.add("x");
  auto again = decode_batch(b.finish());
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_EQ(again->size(), 1u);
}

TEST(EntryBatch, EncodedCommandsAreStampedWithTheLeadersTimeInTheBatchCopyOnly) {
  // Encoded where the request arrived, with time 0; the batch carries the proposer's time.
  const cache::Put put{"key", "value", cache::PutCondition::kIfAbsent, true,
                       cache::Expiry::relative(500)};
  std::string encoded;
  cache::encode_put_to(encoded, put.key, put.value, put.condition, put.get_old, put.expiry, 0);
  EXPECT_EQ(encoded, cache::encode_entry(put, 0));
  const std::string original = encoded;
  BatchBuilder b;
  EXPECT_EQ(b.add_stamped(encoded, 1700000000123, 1 << 20), encoded.size());
  EXPECT_EQ(b.add_stamped(std::string(100, 'x').insert(0, original), 5, 50), original.size() + 100);
  EXPECT_EQ(encoded, original);  // the queued bytes are not modified
  const std::string entry = b.finish();
  auto back = decode_batch(entry);
  ASSERT_TRUE(back.ok()) << back.error();
  ASSERT_EQ(back->size(), 1u);  // the oversized one was left out
  auto cmd = cache::decode_entry((*back)[0]);
  ASSERT_TRUE(cmd.ok()) << cmd.error().message;
  EXPECT_EQ(cmd->command, cache::Command{put});
  EXPECT_EQ(cmd->time_ms, 1700000000123);
}

}  // namespace
}  // namespace cairn::node
