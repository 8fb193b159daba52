// RespSession: reply slots and the ordering of writes and reads (see resp_session.h).
#include "server/resp_session.h"

#include <asio/post.hpp>

namespace cairn::server {
namespace {

// KEYS's answer is written this many keys per step (about a millisecond).
constexpr size_t kKeysWrittenPerStep = 16384;

}  // namespace

uint64_t RespSession::reserve_slot() {
  slots_.emplace_back();
  return first_slot_ + slots_.size() - 1;
}

std::string& RespSession::immediate_target() {
  if (slots_.empty()) return out_;
  slots_.emplace_back();
  slots_.back().ready = true;
  return slots_.back().data;
}

void RespSession::drain_slots() {
  while (!slots_.empty() && slots_.front().ready) {
    slot_bytes_ -= slots_.front().counted;
    if (out_.empty())
      out_ = std::move(slots_.front().data);
    else
      out_.append(slots_.front().data);
    slots_.pop_front();
    ++first_slot_;
  }
}

void RespSession::submit(Op op) {
  if (!blocked_.empty() || !try_dispatch(op)) blocked_.push_back(std::move(op));
}

bool RespSession::try_dispatch(Op& op) {
  if (walks_in_flight_ > 0) return false;
  if (auto* w = std::get_if<WriteOp>(&op)) {
    if (!open_batch_.empty() || barriers_in_flight_ > 0 || !ready_reads_.empty()) return false;
    start_write(std::move(*w));
    return true;
  }
  auto& r = std::get<ReadOp>(op);
  if (writes_in_flight_ > 0) return false;
  if (r.local) {
    serve_local(r);
  } else {
    open_batch_.push_back(std::move(r));
  }
  return true;
}

void RespSession::start_write(WriteOp op) {
  if (writes_in_flight_++ == 0) keepalive_ = shared_from_this();
  Slot& slot = slots_[op.slot - first_slot_];
  slot.proto = op.proto;
  slot.shape = op.plan.shape;
  ctx_->node.execute_encoded(std::move(op.plan.command), WriteDone{this, op.slot});
}

void RespSession::WriteDone::operator()(node::Outcome o) const {
  PlanResult r{std::nullopt, cache::Nil{}};
  if (o.ok())
    r.reply = std::move(*o.reply);
  else
    r.cluster_error = std::move(o.error);
  session->on_write_done(Finished{slot, std::move(r)});
}

void RespSession::on_write_done(Finished f) {
  std::lock_guard lock(finished_mu_);
  finished_.push_back(std::move(f));
  if (finished_posted_) return;
  finished_posted_ = true;
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->take_finished(); });
}

void RespSession::take_finished() {
  {
    std::lock_guard lock(finished_mu_);
    finishing_.swap(finished_);
    finished_posted_ = false;
  }
  writes_in_flight_ -= finishing_.size();
  if (!closed_) {
    for (Finished& f : finishing_) {
      const Slot& slot = slots_[f.slot - first_slot_];
      const WriteShape shape = slot.shape;
      complete(f.slot, slot.proto, [&](resp::ReplyWriter& w) {
        if (f.result.cluster_error) return w.error(cluster_error(*f.result.cluster_error));
        write_engine_reply(f.result.reply, shape, w);
      });
    }
  }
  finishing_.clear();
  // take_finished runs from a handler holding its own reference: dropping this one is safe.
  if (writes_in_flight_ == 0) keepalive_.reset();
  if (closed_) return;
  unblock();
  flush();
}

bool RespSession::can_serve_read_now() const {
  if (!blocked_.empty() || writes_in_flight_ > 0 || walks_in_flight_ > 0) return false;
  if (readonly_) return true;
  // Earlier reads waiting for a barrier are answered first; this one must not overtake them.
  return ctx_->on_node_thread && open_batch_.empty() && barriers_in_flight_ == 0 &&
         ready_reads_.empty() && ctx_->node.can_read_now();
}

void RespSession::serve_local(const ReadOp& op) {
  auto argv = op.args.views();
  if (op.id == resp::CommandId::kKeys) return start_keys(op.slot, op.proto, argv[1]);
  complete(op.slot, op.proto,
           [&](resp::ReplyWriter& w) { serve_read(op.id, argv, ctx_->node.engine(), w); });
}

void RespSession::start_keys(uint64_t slot, resp::Protocol proto, std::string_view pattern) {
  auto op = std::make_shared<KeysOp>();
  op->slot = slot;
  op->proto = proto;
  op->walk.pattern = pattern;
  ++walks_in_flight_;
  continue_keys(op);
}

void RespSession::continue_keys(const std::shared_ptr<KeysOp>& op) {
  if (closed_) {
    --walks_in_flight_;
    return;
  }
  // Each step waits its turn behind the thread's other work (the node's, when Redis clients are
  // served on the node thread): that is what bounds KEYS's stall. The answer of a million keys
  // is written in steps too.
  const auto next_step = [&] {
    op->posted = true;
    asio::post(socket_.get_executor(),
               [self = shared_from_this(), op] { self->continue_keys(op); });
  };
  if (!op->walked) {
    if (!ctx_->node.engine().keys_step(op->walk)) return next_step();
    op->walked = true;
    resp::ReplyWriter(op->answer, op->proto).array(op->walk.size());
  }
  resp::ReplyWriter w(op->answer, op->proto);
  const size_t end = std::min(op->walk.size(), op->written + kKeysWrittenPerStep);
  for (; op->written < end; ++op->written)
    w.bulk(op->walk.key(op->written));
  if (op->written < op->walk.size()) return next_step();
  --walks_in_flight_;
  complete(op->slot, op->proto, [&](resp::ReplyWriter& out) {
    if (out.buffer().empty()) {
      out.buffer().swap(op->answer);
    } else {
      out.buffer().append(op->answer);
    }
  });
  if (op->posted) {  // answered from the event loop: take up what waited behind it
    serve_ready_reads();
    unblock();
    flush();
  }
}

void RespSession::serve_ready_reads() {
  while (!ready_reads_.empty() && !closed_ && walks_in_flight_ == 0 &&
         unsent_bytes() < ctx_->config.max_pending_output) {
    serve_local(ready_reads_.front());
    ready_reads_.pop_front();
  }
}

// Requests one read barrier for the reads gathered since the last one.
void RespSession::close_batch() {
  if (open_batch_.empty()) return;
  ++barriers_in_flight_;
  auto batch = std::make_shared<std::vector<ReadOp>>(std::move(open_batch_));
  open_batch_.clear();
  ctx_->barriers->join([self = shared_from_this(), batch](const node::Outcome& o) {
    asio::post(self->socket_.get_executor(), [self, batch, o] {
      --self->barriers_in_flight_;
      if (self->closed_) return;
      for (ReadOp& op : *batch) {
        if (!o.ok()) {
          self->complete(op.slot, op.proto,
                         [&](resp::ReplyWriter& w) { w.error(cluster_error(o.error)); });
        } else {
          self->ready_reads_.push_back(std::move(op));
        }
      }
      // Served as output room allows: a burst of reads of large values must not build all their
      // answers at once.
      self->serve_ready_reads();
      self->unblock();
      self->flush();
    });
  });
}

// Dispatches waiting requests whose turn has come, then starts their read barrier.
void RespSession::unblock() {
  while (!blocked_.empty() && try_dispatch(blocked_.front()))
    blocked_.pop_front();
  close_batch();
}

}  // namespace cairn::server
