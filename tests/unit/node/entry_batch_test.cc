#include "node/entry_batch.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace cairn::node
