// run_plan: see resp_plan.h. A multi-command plan (MSET, MSETNX) shares one Tally between the
// callbacks of its commands; they all run on the node thread, so it needs no lock.
#include "server/resp_plan.h"

#include <memory>

#include "cache/codec.h"

namespace cairn::server {
namespace {

struct Tally {
  size_t remaining = 0;
  WriteShape shape = WriteShape::kAsIs;
  std::optional<std::string> cluster_error;
  std::optional<cache::Error> engine_error;
  bool all_ok = true;  // every reply was Ok (MSETNX: every key was set)
  std::function<void(PlanResult)> done;

  void add(node::Outcome o) {
    if (!o.ok()) {
      if (!cluster_error) cluster_error = std::move(o.error);
    } else if (auto* e = std::get_if<cache::Error>(&*o.reply)) {
      if (!engine_error) engine_error = *e;
    } else if (!std::holds_alternative<cache::Ok>(*o.reply)) {
      all_ok = false;
    }
    if (--remaining > 0) return;
    PlanResult r;
    r.cluster_error = std::move(cluster_error);
    if (engine_error)
      r.reply = *engine_error;
    else if (shape == WriteShape::kMsetnx)
      r.reply = int64_t{all_ok ? 1 : 0};
    else
      r.reply = cache::Ok{};
    done(std::move(r));
  }
};

void issue_all(node::Node& node, std::vector<std::string> commands,
               const std::shared_ptr<Tally>& tally) {
  tally->remaining = commands.size();
  for (auto& c : commands)
    node.execute_encoded(std::move(c), [tally](node::Outcome o) { tally->add(std::move(o)); });
}

// MSETNX's keys: its commands are Puts the plan encoded itself.
bool any_present(const cache::Engine& engine, const std::vector<std::string>& commands) {
  for (const auto& c : commands) {
    auto put = cache::decode_entry(c);
    CAIRN_CHECK(put.ok() && std::holds_alternative<cache::Put>(put->command));
    if (engine.exists({std::get<cache::Put>(put->command).key}) > 0) return true;
  }
  return false;
}

}  // namespace

void run_plan(node::Node& node, WritePlan plan, std::function<void(PlanResult)> done) {
  if (plan.commands.size() == 1 && !plan.check_absent_first) {
    node.execute_encoded(std::move(plan.commands[0]), [done = std::move(done)](node::Outcome o) {
      if (!o.ok()) return done(PlanResult{std::move(o.error), cache::Nil{}});
      done(PlanResult{std::nullopt, std::move(*o.reply)});
    });
    return;
  }
  auto tally = std::make_shared<Tally>();
  tally->shape = plan.shape;
  tally->done = std::move(done);
  if (!plan.check_absent_first) return issue_all(node, std::move(plan.commands), tally);
  // MSETNX over several keys: refuse at once when any key is present at a linearizable read
  // point; otherwise set each key only if still absent (a concurrent writer can still take one).
  auto commands = std::make_shared<std::vector<std::string>>(std::move(plan.commands));
  node.read_barrier([&node, tally, commands](node::Outcome o) {
    if (!o.ok()) return tally->done(PlanResult{std::move(o.error), cache::Nil{}});
    if (any_present(node.engine(), *commands))
      return tally->done(PlanResult{std::nullopt, int64_t{0}});
    issue_all(node, std::move(*commands), tally);
  });
}

}  // namespace cairn::server
