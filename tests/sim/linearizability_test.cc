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
