#include "node/command_mapping.h"

#include <gtest/gtest.h>

#include "cache/codec.h"

namespace cairn::node {
namespace {

TEST(CommandMapping, NativeCommandsBecomeEngineWritesOrReads) {
  auto put = to_operation(net::PutCommand{"k", "v", 1500});
  ASSERT_TRUE(std::holds_alternative<cache::Command>(put));
  const auto& p = std::get<cache::Put>(std::get<cache::Command>(put));
  EXPECT_EQ(p.key, "k");
  EXPECT_EQ(p.expiry, cache::Expiry::relative(1500));
  auto put_forever = to_operation(net::PutCommand{"k", "v", std::nullopt});
  EXPECT_EQ(std::get<cache::Put>(std::get<cache::Command>(put_forever)).expiry,
            cache::Expiry::none());
  EXPECT_TRUE(std::holds_alternative<cache::IncrBy>(
      std::get<cache::Command>(to_operation(net::IncrCommand{"n", -3}))));
  auto get = std::get<ReadOp>(to_operation(net::GetCommand{"k"}));
  EXPECT_EQ(get.kind, ReadOp::Kind::kGet);
  EXPECT_FALSE(get.stale);
  EXPECT_TRUE(std::get<ReadOp>(to_operation(net::StaleGetCommand{"k"})).stale);
  EXPECT_EQ(std::get<ReadOp>(to_operation(net::TtlCommand{"k"})).kind, ReadOp::Kind::kTtl);
}

TEST(CommandMapping, OutcomesBecomeNativeResponses) {
  auto ok = to_response(Outcome::of(cache::Ok{}));
  EXPECT_TRUE(ok.success);
  EXPECT_FALSE(ok.value);
  auto n = to_response(Outcome::of(int64_t{-7}));
  EXPECT_EQ(n.value, "-7");
  auto miss = to_response(Outcome::of(cache::Nil{}));
  EXPECT_TRUE(miss.success);
  EXPECT_FALSE(miss.value);
  auto bad = to_response(
      Outcome::of(cache::Error{cache::ErrorCode::kNotInteger, std::string(cache::kErrNotInteger)}));
  EXPECT_FALSE(bad.success);
  EXPECT_EQ(bad.error, std::string(cache::kErrNotInteger));
  auto refused = to_response(Outcome::fail("not leader", 3));
  EXPECT_FALSE(refused.success);
  EXPECT_EQ(refused.leader_hint, 3u);
}

// A forwarded engine command's reply crosses the wire without losing what kind of reply it was.
TEST(CommandMapping, ForwardRepliesKeepTheEngineReplyIntact) {
  for (const cache::Reply& r :
       {cache::Reply{cache::Ok{}}, cache::Reply{cache::Nil{}}, cache::Reply{int64_t{42}},
        cache::Reply{cache::Bytes("42")},
        cache::Reply{cache::Error{cache::ErrorCode::kOverflow, "ERR overflow"}}}) {
    auto wire = outcome_to_forward_reply(Outcome::of(r), true);
    auto back = forward_reply_to_outcome(wire, true);
    ASSERT_TRUE(back.ok()) << back.error;
    EXPECT_EQ(*back.reply, r);
  }
  auto failed =
      forward_reply_to_outcome(outcome_to_forward_reply(Outcome::fail("no leader"), true), true);
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(failed.error, "no leader");
  net::ClientResponse garbage;
  garbage.success = true;
  garbage.value = "\x09";
  EXPECT_FALSE(forward_reply_to_outcome(garbage, true).ok());
}

}  // namespace
}  // namespace cairn::node
