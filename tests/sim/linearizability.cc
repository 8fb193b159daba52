// Wing & Gong linearizability search with memoization: see linearizability.h. Single-threaded.
#include "linearizability.h"

#include <algorithm>
#include <functional>
#include <unordered_set>

namespace cairn::sim {

namespace {

// One event of the history as a node of a doubly linked list; calls point at their return.
struct Event {
  bool is_call = false;
  std::size_t op = 0;
  std::uint64_t time = 0;
  Event* match = nullptr;  // call -> its return
  Event* prev = nullptr;
  Event* next = nullptr;
};

struct Bits {
  std::vector<std::uint64_t> w;
  explicit Bits(std::size_t n) : w((n + 63) / 64) {}
  void set(std::size_t i) { w[i / 64] |= 1ULL << (i % 64); }
  void clear(std::size_t i) { w[i / 64] &= ~(1ULL << (i % 64)); }
  bool operator==(const Bits& o) const { return w == o.w; }
};

struct CacheKey {
  Bits bits;
  std::string state;
  bool operator==(const CacheKey& o) const { return state == o.state && bits == o.bits; }
};

struct CacheHash {
  std::size_t operator()(const CacheKey& k) const {
    std::size_t h = std::hash<std::string>()(k.state);
    for (std::uint64_t x : k.bits.w)
      h = h * 1000003u ^ std::hash<std::uint64_t>()(x);
    return h;
  }
};

void lift(Event* call) {
  call->prev->next = call->next;
  if (call->next) call->next->prev = call->prev;
  Event* ret = call->match;
  ret->prev->next = ret->next;
  if (ret->next) ret->next->prev = ret->prev;
}

void unlift(Event* call) {
  Event* ret = call->match;
  ret->prev->next = ret;
  if (ret->next) ret->next->prev = ret;
  call->prev->next = call;
  if (call->next) call->next->prev = call;
}

}  // namespace

CheckResult check_register(const std::vector<RegisterOp>& ops, std::string* why,
                           std::size_t max_states) {
  const std::size_t n = ops.size();
  if (n == 0) return CheckResult::kLinearizable;
  std::vector<Event> ev(2 * n + 1);  // ev[0] is the list head (sentinel)
  for (std::size_t i = 0; i < n; ++i) {
    ev[1 + 2 * i] = Event{true, i, ops[i].call, &ev[2 + 2 * i], nullptr, nullptr};
    ev[2 + 2 * i] = Event{false, i, ops[i].ret, nullptr, nullptr, nullptr};
  }
  std::vector<Event*> order;
  order.reserve(2 * n);
  for (std::size_t k = 1; k < ev.size(); ++k)
    order.push_back(&ev[k]);
  // By time; at equal times calls come first, so touching operations count as concurrent.
  std::stable_sort(order.begin(), order.end(), [](const Event* a, const Event* b) {
    if (a->time != b->time) return a->time < b->time;
    return a->is_call && !b->is_call;
  });
  Event* head = &ev[0];
  Event* prev = head;
  for (Event* e : order) {
    prev->next = e;
    e->prev = prev;
    prev = e;
  }

  std::unordered_set<CacheKey, CacheHash> cache;
  struct Frame {
    Event* call;
    std::string state;
  };
  std::vector<Frame> stack;
  Bits linearized(n);
  std::string state;  // the register starts empty
  Event* entry = head->next;
  std::size_t longest = 0;
  std::uint64_t stuck_at = 0;  // call time of the first op left over when `longest` was reached
  while (head->next != nullptr) {
    if (entry == nullptr) break;  // defensive; cannot happen: a return always ends the list
    if (entry->is_call) {
      const RegisterOp& op = ops[entry->op];
      const bool match = op.is_cas && !op.expected.empty() && state == op.expected;
      const bool ok = op.is_cas ? op.swapped < 0 || (op.swapped == 1) == match
                                : op.is_write || op.value == state;
      if (ok) {
        std::string next_state = op.is_write || match ? op.value : state;
        Bits next_bits = linearized;
        next_bits.set(entry->op);
        CacheKey key{std::move(next_bits), next_state};
        if (cache.insert(key).second) {
          if (cache.size() > max_states) return CheckResult::kGaveUp;
          stack.push_back(Frame{entry, state});
          state = std::move(next_state);
          linearized.set(entry->op);
          lift(entry);
          if (stack.size() > longest) {
            longest = stack.size();
            stuck_at = head->next != nullptr ? head->next->time : 0;
          }
          entry = head->next;
          continue;
        }
      }
      entry = entry->next;
    } else {
      // A return event before its call was linearized: backtrack.
      if (stack.empty()) {
        if (why != nullptr) {
          *why = "no linearization: at most " + std::to_string(longest) + " of " +
                 std::to_string(n) + " operations could be ordered; the longest order stops " +
                 "before the op called at " + std::to_string(stuck_at) + ":\n" +
                 describe(ops, 60, stuck_at);
        }
        return CheckResult::kViolation;
      }
      Frame f = std::move(stack.back());
      stack.pop_back();
      state = std::move(f.state);
      linearized.clear(f.call->op);
      unlift(f.call);
      entry = f.call->next;
    }
  }
  return CheckResult::kLinearizable;
}

std::string describe(const std::vector<RegisterOp>& ops, std::size_t max_lines,
                     std::uint64_t around) {
  std::vector<std::size_t> idx(ops.size());
  for (std::size_t i = 0; i < idx.size(); ++i)
    idx[i] = i;
  std::sort(idx.begin(), idx.end(),
            [&](std::size_t a, std::size_t b) { return ops[a].call < ops[b].call; });
  std::string out;
  // The window: the last max_lines ops, or a third of them before `around` and the rest after.
  std::size_t start = idx.size() > max_lines ? idx.size() - max_lines : 0;
  if (around != kNever) {
    const auto first_after = static_cast<std::size_t>(
        std::partition_point(idx.begin(), idx.end(),
                             [&](std::size_t i) { return ops[i].call < around; }) -
        idx.begin());
    start = std::min(start, first_after > max_lines / 3 ? first_after - max_lines / 3 : 0);
  }
  const std::size_t end = std::min(idx.size(), start + max_lines);
  if (start > 0) out += "  ... " + std::to_string(start) + " earlier operations\n";
  for (std::size_t k = start; k < end; ++k) {
    const RegisterOp& op = ops[idx[k]];
    const std::string what =
        op.is_cas ? " cas   " + op.expected + " -> " + op.value +
                        (op.swapped < 0    ? " ?"
                         : op.swapped == 1 ? " =1"
                                           : " =0")
        : op.is_write ? " write " + op.value
                      : " read  " + (op.value.empty() ? std::string("<none>") : op.value);
    out += "  client " + std::to_string(op.client) + what + "  [" + std::to_string(op.call) + ", " +
           (op.ret == kNever ? std::string("?") : std::to_string(op.ret)) + "]\n";
  }
  if (end < idx.size()) out += "  ... " + std::to_string(idx.size() - end) + " later operations\n";
  return out;
}

}  // namespace cairn::sim
