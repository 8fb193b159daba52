// Linearizability checker for a single register (one key of the simulated KV store), after Wing
// & Gong (1993) with Lowe's memoization ("Testing for linearizability", 2017): depth-first search
// over the order of completion events, pruning states (set of linearized ops, register value)
// already explored. Histories are checked per key, which is sound because keys are independent.
// Pure and single-threaded.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cairn::sim {

inline constexpr std::uint64_t kNever =
    UINT64_MAX;  // return time of an op whose outcome is unknown

struct RegisterOp {
  int client = 0;
  bool is_write = false;
  std::string value;  // written value, or the value the read returned ("" = absent)
  std::uint64_t call = 0;
  std::uint64_t ret = kNever;  // kNever: may have taken effect at any time after `call`, or never
  // A compare-and-set (is_write false): writes `value` if the register holds `expected`, which is
  // never "" (a CAS needs the key to exist). `swapped`: 1 it wrote, 0 it did not, -1 unknown.
  bool is_cas = false;
  std::string expected = {};
  int swapped = -1;
};

enum class CheckResult { kLinearizable, kViolation, kGaveUp };

// Checks ops against a register that starts empty. On a violation, `why` gets a readable account.
// Gives up (kGaveUp) if the search explores more than `max_states` states.
CheckResult check_register(const std::vector<RegisterOp>& ops, std::string* why,
                           std::size_t max_states = 2'000'000);

// Lists up to `max_lines` ops by call time: the last ones, or, given `around` (a time), the ones
// from a little before it on - where a failed check's search got stuck.
std::string describe(const std::vector<RegisterOp>& ops, std::size_t max_lines = 60,
                     std::uint64_t around = kNever);

}  // namespace cairn::sim
