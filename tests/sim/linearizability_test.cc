// The Wing & Gong register checker on hand-made histories: it must accept every linearizable
// one and reject the classic violations (stale read, read of a value never written, reads that
// go back in time, lost acknowledged write).
#include "linearizability.h"

#include <gtest/gtest.h>

namespace cairn::sim {
namespace {

RegisterOp w(int client, const char* v, std::uint64_t call, std::uint64_t ret) {
  return RegisterOp{client, true, v, call, ret};
}
RegisterOp r(int client, const char* v, std::uint64_t call, std::uint64_t ret) {
  return RegisterOp{client, false, v, call, ret};
}
// A compare-and-set of `expected` to `v`; swapped 1, 0 or -1 (unknown, with ret kNever).
RegisterOp cas(int client, const char* expected, const char* v, int swapped, std::uint64_t call,
               std::uint64_t ret) {
  RegisterOp op{client, false, v, call, ret};
  op.is_cas = true;
  op.expected = expected;
  op.swapped = swapped;
  return op;
}

TEST(Linearizability, Table) {
  struct Case {
    const char* what;
    std::vector<RegisterOp> ops;
    CheckResult want;
  } cases[] = {
      {"empty", {}, CheckResult::kLinearizable},
      {"read of initial state", {r(0, "", 1, 2)}, CheckResult::kLinearizable},
      {"sequential write then read",
       {w(0, "a", 1, 2), r(1, "a", 3, 4)},
       CheckResult::kLinearizable},
      {"stale read after a completed write",
       {w(0, "a", 1, 2), r(1, "", 3, 4)},
       CheckResult::kViolation},
      {"concurrent read may see either",
       {w(0, "a", 1, 5), r(1, "", 2, 3), r(2, "a", 2, 4)},
       CheckResult::kLinearizable},
      {"reads go back in time",
       {w(0, "a", 1, 2), w(0, "b", 3, 10), r(1, "b", 4, 5), r(2, "a", 6, 7)},
       CheckResult::kViolation},
      {"value never written", {w(0, "a", 1, 2), r(1, "z", 3, 4)}, CheckResult::kViolation},
      {"unknown write may have happened",
       {w(0, "a", 1, kNever), r(1, "a", 5, 6)},
       CheckResult::kLinearizable},
      {"unknown write may not have happened",
       {w(0, "a", 1, kNever), r(1, "", 5, 6)},
       CheckResult::kLinearizable},
      {"unknown write cannot happen before its call",
       {r(1, "a", 1, 2), w(0, "a", 3, kNever)},
       CheckResult::kViolation},
      {"unknown write, once seen, cannot vanish",
       {w(0, "a", 1, kNever), r(1, "a", 5, 6), r(2, "", 7, 8)},
       CheckResult::kViolation},
      {"overlapping writes, reads agree on an order",
       {w(0, "a", 1, 10), w(1, "b", 2, 10), r(2, "b", 11, 12), r(3, "b", 13, 14)},
       CheckResult::kLinearizable},
      {"overlapping writes, reads disagree after both",
       {w(0, "a", 1, 10), w(1, "b", 2, 10), r(2, "b", 11, 12), r(3, "a", 13, 14)},
       CheckResult::kViolation},
      {"cas that matched",
       {w(0, "a", 1, 2), cas(1, "a", "b", 1, 3, 4), r(2, "b", 5, 6)},
       CheckResult::kLinearizable},
      {"cas that matched but left the value",
       {w(0, "a", 1, 2), cas(1, "a", "b", 1, 3, 4), r(2, "a", 5, 6)},
       CheckResult::kViolation},
      {"cas said it swapped where nothing matched",
       {w(0, "a", 1, 2), cas(1, "z", "b", 1, 3, 4)},
       CheckResult::kViolation},
      {"cas said it did not swap where the value matched",
       {w(0, "a", 1, 2), cas(1, "a", "b", 0, 3, 4)},
       CheckResult::kViolation},
      {"cas on an absent key never swaps", {cas(1, "a", "b", 1, 1, 2)}, CheckResult::kViolation},
      {"cas concurrent with the write it expects may go either way",
       {w(0, "a", 1, 10), cas(1, "a", "b", 0, 2, 3), cas(2, "a", "c", 1, 4, 11), r(3, "c", 12, 13)},
       CheckResult::kLinearizable},
      {"two cas of one value cannot both swap",
       {w(0, "a", 1, 2), cas(1, "a", "b", 1, 3, 10), cas(2, "a", "c", 1, 3, 10)},
       CheckResult::kViolation},
      {"unknown cas may or may not have swapped",
       {w(0, "a", 1, 2), cas(1, "a", "b", -1, 3, kNever), r(2, "b", 5, 6), r(2, "b", 7, 8)},
       CheckResult::kLinearizable},
      {"unknown cas, once seen, cannot vanish",
       {w(0, "a", 1, 2), cas(1, "a", "b", -1, 3, kNever), r(2, "b", 5, 6), r(2, "a", 7, 8)},
       CheckResult::kViolation},
  };
  for (const auto& c : cases) {
    std::string why;
    EXPECT_EQ(check_register(c.ops, &why), c.want) << c.what << "\n" << why;
  }
}

// Many concurrent clients with long overlapping operations stay fast thanks to memoization.
TEST(Linearizability, WideConcurrencyIsTractable) {
  std::vector<RegisterOp> ops;
  for (int k = 0; k < 60; ++k) {
    const std::string v = "v" + std::to_string(k);
    ops.push_back(RegisterOp{k % 6, true, v, static_cast<std::uint64_t>(10 * k),
                             static_cast<std::uint64_t>(10 * k + 35)});
    ops.push_back(RegisterOp{6 + k % 6, false, v, static_cast<std::uint64_t>(10 * k + 5),
                             static_cast<std::uint64_t>(10 * k + 40)});
  }
  std::string why;
  EXPECT_EQ(check_register(ops, &why), CheckResult::kLinearizable) << why;
}

}  // namespace
}  // namespace cairn::sim
