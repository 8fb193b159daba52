// Node: writes larger than one entry, proposed and applied a fragment at a time (docs/node.md,
// "Large writes"). One 300 MB entry would hold every node thread for seconds at once (copied into
// the log, written, sent, applied): longer than an election timeout, so the write never commits.
// As fragments, each loop turn handles a few MB and heartbeats go on between them.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cache/codec.h"
#include "net/client_errors.h"
#include "node/entry_batch.h"
#include "node/node.h"

namespace cairn::node {

void Node::start_upload(Queued q, int64_t now_ms) {
  cache::stamp_entry_time(q.entry.data(), now_ms);
  const uint64_t footprint = q.entry.size() + kEntryOverheadEstimate;
  // Room first, as for a batch: the evictions commit before the write's last fragment.
  make_room_for(footprint);
  upload_ = Upload{std::move(q.entry), std::move(q.done), footprint};
}

void Node::pump_upload() {
  if (upload_abort_ && leading() && !disk_full_) {
    if (raw_->propose(encode_fragment(*upload_abort_, 0, 0, {})).ok()) upload_abort_.reset();
  }
  if (!upload_) return;
  if (!leading()) return reroute_upload();
  Upload& u = *upload_;
  if (disk_full_) {
    if (u.done) u.done(no_space());
    if (u.sent > 0) upload_abort_ = u.first;
    upload_.reset();
    return;
  }
  const raft::Term term = raw_->raft().term();
  if (u.sent > 0 && u.term != term) {
    // Deposed and elected again since the last turn: what went out belongs to a term whose
    // fragments every replica drops. Start over in this one.
    u.sent = 0;
  }
  size_t budget = kUploadBytesPerTurn;
  while (u.sent < u.data.size() && budget > 0) {
    const size_t n = std::min(kFragmentBytes, u.data.size() - u.sent);
    const raft::Index index = last_index() + 1;
    if (u.sent == 0) {
      u.first = index;
      u.term = term;
    }
    auto st = raw_->propose(encode_fragment(u.first, u.data.size(), u.sent,
                                            std::string_view(u.data).substr(u.sent, n)));
    if (!st.ok()) {
      // The uncommitted tail is full (its commits bring the node back here) or leadership is
      // being handed over (the next tick does): wait, keeping the write's order.
      if (st.error() == raft::Error::kUncommittedLimit ||
          st.error() == raft::Error::kLeaderTransferring)
        return;
      return reroute_upload();
    }
    CAIRN_CHECK(last_index() == index && raw_->raft().term() == term);
    u.sent += n;
    budget -= std::min(budget, n);
    if (u.sent < u.data.size()) continue;
    // The last fragment: the write's answer is tied to its (index, term), as a batch's is.
    unapplied_writes_.emplace_back(index, u.footprint);
    unapplied_write_bytes_ += u.footprint;
    last_time_carried_ = env_->now();
    std::vector<Done> dones;
    dones.push_back(std::move(u.done));
    track_proposal(index, term, std::move(dones));
    upload_.reset();
    return;
  }
  kick();  // the turn's share is out: the rest on the next turn, after other work
}

void Node::reroute_upload() {
  if (!upload_) return;
  Upload u = std::move(*upload_);
  upload_.reset();
  // Fragments without their last never apply anywhere: the write is as new, safe to propose again.
  if (u.sent > 0 && leading() && u.term == raw_->raft().term()) upload_abort_ = u.first;
  if (!u.done) return;
  if (leading()) {
    queue_.push_front(Queued{std::move(u.data), std::move(u.done)});
    kick();
  } else {
    execute_on_node(std::move(u.data), std::move(u.done), 0);
  }
}

void Node::apply_fragment(const raft::Entry& e) {
  auto f = decode_fragment(e.data());
  if (!f.ok()) {
    spdlog::error("node {}: entry {}: {}", config_.id, e.index(), f.error());
    return complete_proposal(e.index(), e.term(), Outcome::fail("undecodable entry"));
  }
  if (f->abort()) {
    if (staging_ && staging_->first == f->first) staging_.reset();
    return;
  }
  if (f->offset == 0) {
    if (f->first != e.index() || f->total > kMaxFragmentedBytes) {
      spdlog::error("node {}: entry {}: a fragment names write {} of {} bytes", config_.id,
                    e.index(), f->first, f->total);
      return complete_proposal(e.index(), e.term(), Outcome::fail("undecodable entry"));
    }
    if (staging_)
      spdlog::warn("node {}: write at {} left unfinished ({} of {} bytes)", config_.id,
                   staging_->first, staging_->data.size(), staging_->total);
    staging_ = Staging{e.index(), e.term(), f->total, {}};
    staging_->data.reserve(f->total);
  } else if (!staging_ || staging_->first != f->first || staging_->data.size() != f->offset) {
    // Of a write whose start this replica dropped (a later term began between its fragments):
    // every replica drops it alike.
    if (f->last())
      complete_proposal(e.index(), e.term(),
                        Outcome::fail(fmt::format("{}: leadership changed before commit",
                                                  net::errors::kDropped)));
    return;
  }
  staging_->data.append(f->bytes);
  if (staging_->data.size() < staging_->total) return;
  std::string data = std::move(staging_->data);
  staging_.reset();
  // Decoded in place (not into apply_scratch_, which would keep its size for good).
  cache::StampedCommand cmd;
  Outcome o;
  if (auto st = cache::decode_entry_taking(std::move(data), cmd); !st.ok()) {
    spdlog::error("node {}: entry {} holds an undecodable command: {}", config_.id, e.index(),
                  st.error().message);
    o = Outcome::fail("undecodable entry");
  } else {
    cache::Engine::Batch writer(*engine_);
    o = Outcome::of(writer.apply(cmd.command, cmd.time_ms));
  }
  complete_proposal(e.index(), e.term(), std::move(o));
}

}  // namespace cairn::node
