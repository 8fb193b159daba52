// Node: one member of a cairn cluster. It drives the Raft core, applies committed entries to the
// cache engine, answers client requests when their entries apply (or their reads may be served),
// forwards what only the leader can do, and changes membership.
//
// Threading: every piece of Raft and request state lives on one thread, the node thread, which
// runs the Env's task queue (env.h): the tick and every entry point (posted from network threads)
// execute there one at a time, so none of that state needs a lock. The Env also gives the node
// its clocks, randomness and transport: cairn-server's is the real world, a simulator's is not. The
// engine's reads are thread-safe and are also served from network threads for stale reads.
// Callbacks passed to the entry points are called exactly once, on the node thread (or at once on
// the caller's thread when the node has stopped).
//
// The loop (docs/node.md, "The loop"): each turn drains queued client work into the Raft core -
// all waiting proposals in one batch, all waiting linearizable reads behind one ReadIndex - then
// handles every Ready: install a snapshot, append entries, persist term and vote, send messages,
// apply committed entries, serve reads whose index has been applied, advance.
#pragma once

#include <asio/io_context.hpp>
#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "cache/codec.h"
#include "cache/engine.h"
#include "cache/snapshot.h"
#include "net/messages.h"
#include "net/transport.h"
#include "node/address_book.h"
#include "node/allocator.h"
#include "node/command_mapping.h"
#include "node/env.h"
#include "node/hard_state_file.h"
#include "node/log_syncer.h"
#include "node/node_config.h"
#include "node/outcome.h"
#include "node/snapshot_builder.h"
#include "node/snapshot_receiver.h"
#include "node/snapshot_sender.h"
#include "raft/raw_node.h"
#include "storage/snapshot_files.h"
#include "storage/wal.h"

namespace cairn::node {

using Respond = std::function<void(net::ClientResponse)>;

class Node {
 public:
  // Validates the configuration, reads the hard state from data_dir and builds storage, Raft core,
  // engine and transport. Nothing runs until start(). `env`: where the node runs (env.h); a
  // ThreadEnv, the real world, when null.
  static Result<std::unique_ptr<Node>, std::string> create(NodeConfig config,
                                                           std::unique_ptr<Env> env = nullptr);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Starts the node thread (and, with config.join, asks the cluster for admission).
  void start();
  // Graceful stop, bounded by `grace`: a leader hands leadership to the most caught-up voter and
  // waits for the handover; every waiting request is then answered ("shutting down" for those
  // that could not finish); the thread stops. Idempotent; blocks until done.
  void stop(std::chrono::milliseconds grace);
  // The same without waiting: the node stops on its task queue, and stopped() turns true there.
  // (stop() is this and Env::wait().) Idempotent.
  void begin_stop(std::chrono::milliseconds grace);

  // Entry points: any thread. Every callback is called exactly once.
  //
  // A write, through the log: forwarded to the leader when this node is not it. Called on the node
  // thread, it queues the write without a hand-off, and `done` may run before execute() returns.
  void execute(cache::Command cmd, Done done);
  // The same for a command already encoded (cache::encode_entry_to or encode_put_to, with any
  // time: the leader stamps its own). Saves building a Command for a front end that can encode
  // straight from its request.
  void execute_encoded(std::string entry, Done done);
  // A linearizable read point: `done` gets Ok once this node has applied everything committed
  // before the call (ReadIndex), so reads of engine() made then see every write acknowledged
  // before the call, on any node. Concurrent callers share one ReadIndex round.
  void read_barrier(Done done);
  // The native protocol's commands (reads and writes), answered as ClientResponses.
  void submit(net::CacheCommand cmd, Respond respond);
  // The same within a client session: a write goes through the log as a cache::SessionWrite, so
  // it takes effect at most once however often it is sent (cache/sessions.h).
  void submit_session(net::SessionRequest req, Respond respond);
  void admin(net::AdminCommand cmd, Done done);
  void step(eraftpb::Message msg);
  void receive_forward(net::ForwardRequest req);
  void receive_forward_reply(net::ClientResponse resp);
  // Snapshot transfer: chunks are written on the caller's thread; acks go to the node thread.
  void receive_snapshot_chunk(const net::SnapshotChunk& chunk) {
    snapshot_receiver_->on_chunk(chunk);
  }
  void receive_snapshot_ack(net::SnapshotAck ack);
  void status(std::function<void(net::StatusResponse)> done);

  // Node thread only (a front end running on io_context()): true when reads of engine() made now
  // are linearizable without a ReadIndex round - this node leads a single-voter configuration and
  // has applied everything committed, which is exactly what a ReadIndex would wait for - and no
  // key's deadline has passed by this node's clock that the replicated clock has not reached.
  bool can_read_now() const;
  // Node thread only: the first index the in-memory log still holds (compaction moves it up).
  raft::Index log_first_index() const { return storage_.first_index(); }
  // Node thread only: a snapshot is being built, or its result not yet taken (tests).
  bool snapshot_building() const { return snapshot_builder_->busy(); }
  // Node thread only: where the Raft core and the applied state stand, for the simulator's checks
  // after every step (one leader per term, committed entries never change, replicas equal at the
  // same applied index) and for tests.
  struct Standing {
    raft::Term term = 0;
    raft::Role role = raft::Role::kFollower;
    raft::Index commit = 0;
    raft::Index applied = 0;
    bool recovering = false;  // restarted without its log, not caught up yet (docs/node.md)
    bool voter = false;       // a voter of the membership this node has applied
  };
  Standing standing() const;
  // Node thread only: the log entry at `index`, or null when the log in memory no longer (or
  // not yet) holds it.
  const raft::Entry* log_entry(raft::Index index) const { return storage_.entry_ref(index); }

  net::NodeId id() const { return config_.id; }
  // A peer of this cluster said where it takes its peers' traffic (its PeerHello). Used to
  // answer it only while the membership this node has applied does not name it: a member lagging
  // behind the entry that added a node (now perhaps the leader) could not answer it otherwise,
  // and so never catch up. Never stored, never part of the membership. Any thread.
  void learn_address(net::NodeId id, const std::string& addr);
  // Node thread only: whether this node has an address to reach `id` at.
  bool has_address(net::NodeId id) const {
    return book_.find(id) != nullptr || learned_addrs_.count(id) != 0;
  }
  // The cluster this node belongs to (identity.h); 0 for a joining node not yet admitted.
  uint64_t cluster_id() const { return cluster_id_.load(); }
  const std::string& listen_addr() const { return config_.listen; }
  net::NodeId leader_id() const { return leader_.load(std::memory_order_relaxed); }
  const cache::Engine& engine() const { return *engine_; }
  // Purges of freed memory the node asked the allocator for (any thread).
  uint64_t memory_purges() const { return memory_keeper_.purges(); }
  // The largest log entry this node proposes: one command with a key and a value of the engine's
  // largest sizes, beside a batch of small ones. Entries and forwarded writes that do not fit a
  // frame travel between peers in MessageParts, up to max_peer_message().
  size_t max_entry_bytes() const;
  // The largest message a peer of this cluster may send in parts: an append of one largest entry
  // beside Raft's per-message budget.
  size_t max_peer_message() const;
  // The node thread's event loop. A front end may run its connections here (RespServer with
  // threads = 0): their handlers then run on the node thread between loop turns, and hand-offs
  // to and from the node cost no thread switch. Runs from start() until the node stops.
  asio::io_context& io_context() { return io_; }
  bool stopped() const { return stopped_.load(); }

  // Use create().
  Node(NodeConfig config, std::unique_ptr<cache::Engine> engine, std::unique_ptr<Env> env);

 private:
  // The requests waiting for one log entry: a batch of writes, or a conf change.
  struct Proposal {
    raft::Term term = 0;
    std::vector<Done> dones;
    Clock::time_point deadline;
  };
  struct Queued {
    std::string entry;  // cache::encode_entry bytes; their time is stamped when proposed
    Done done;          // empty for the node's own entries (clock ticks), which are never rerouted
  };
  struct ReadBatch {
    std::vector<Done> waiters;
    Clock::time_point deadline;
    raft::Index index = 0;  // set when the ReadState arrives
  };
  struct Forwarded {
    Done done;
    Clock::time_point deadline;
    bool engine_command = true;  // false: an admin command
  };
  struct Transfer {
    net::NodeId target = 0;
    Done done;
    Clock::time_point deadline;
  };

  // node.cc: lifecycle and the Ready loop.
  Status<std::string> init_raft();
  void on_tick();
  void kick();
  void process();
  void handle_ready();
  void note_long_turn(Clock::duration took);
  void persist_hard_state(const raft::HardState& hs);
  // Sends `msgs`, or only the appends among them (kAppends), or all but those (kAllButAppends).
  enum class Which { kAll, kAppends, kAllButAppends };
  void send_messages(std::vector<raft::Message>& msgs, Which which = Which::kAll);
  void apply_entries(std::vector<raft::Entry>& entries);
  void apply_entry(const raft::Entry& e);
  void finish_applying();  // after a run of apply_entry: leaves recovery once caught up
  void apply_normal(const raft::Entry& e);
  // Applies an entry's data (a batch or one command) and answers its clients.
  void apply_data(raft::Index index, raft::Term term, std::string_view data);
  void on_soft_state(const raft::SoftState& ss);
  void finish_stop();
  // The Raft core's role and leader as of now. soft_ is only what the last Ready reported: a
  // message stepped since (a higher term) may already have deposed this node, so every decision
  // that depends on leading asks the core.
  bool leading() const { return raw_->raft().role() == raft::Role::kLeader; }
  net::NodeId current_leader() const { return raw_->raft().leader(); }
  // Stores the membership (book_) in data_dir when it changed, so a restart knows it.
  void persist_members();
  // Picks the voter to hand leadership to on shutdown, 0 if none is worth waiting for.
  net::NodeId handover_target() const;

  // node_requests.cc: client requests, forwarding, reads, timeouts.
  void execute_on_node(std::string entry, Done done, uint32_t hops);
  void forward(net::ForwardedCommand cmd, uint32_t hops, Done done);
  void flush_proposals();
  void flush_reads();
  void carry_clock_for_reads();
  void serve_ready_reads();
  void on_read_states(std::vector<raft::ReadState>& states);
  void reissue_reads();
  void expire_requests(Clock::time_point now);
  // Answers the requests of the entry at `index`: outcomes[i] to the i-th (those without an
  // outcome are answered as dropped).
  void complete_proposal(raft::Index index, raft::Term term, std::vector<Outcome>& outcomes);
  void complete_proposal(raft::Index index, raft::Term term, Outcome outcome);
  // Answers every proposal at or below `index` as dropped: a snapshot covered them, so they may
  // have been applied but their results are unknown here.
  void drop_proposals_through(raft::Index index);
  // Records the requests of the entry this leader just appended at `index` in `term`. A proposal
  // of an earlier term at or above `index` (this node led then, was deposed and its entries there
  // overwritten, and leads again before they were applied) has lost its place in this log: it is
  // answered as dropped first, its outcome unknown (another leader may still commit it).
  void track_proposal(raft::Index index, raft::Term term, std::vector<Done> dones);
  raft::Index last_index() const;
  // Answers everything waiting: requests that never reached the log get `never_executed` (safe
  // to retry), proposed or forwarded writes get `outcome_unknown` (they may still commit).
  void fail_everything(const std::string& never_executed, const std::string& outcome_unknown);
  net::StatusResponse make_status() const;

  // node_uploads.cc: writes larger than kFragmentBytes, proposed a fragment at a time
  // (entry_batch.h; docs/node.md, "Large writes").
  // Leader: takes the write at the front of queue_ as the upload in progress.
  void start_upload(Queued q, int64_t now_ms);
  // Leader: proposes the next fragments, at most kUploadBytesPerTurn of them (and a pending
  // abort). While an upload is in progress nothing else from queue_ is proposed: writes keep
  // their order.
  void pump_upload();
  // Gives the upload in progress up: its write is rerouted (to this node again if it leads) when
  // no fragment went out in a term that may still commit it, never half applied.
  void reroute_upload();
  // Every replica: adds a fragment to staging_, and applies the write with its last fragment.
  void apply_fragment(const raft::Entry& e);

  // node_storage.cc: the log and snapshots on disk (config.durable).
  // Opens them and restores what they hold; `restored` tells whether a log or snapshot was found.
  Status<std::string> open_disk(raft::HardState* hs, bool* restored);
  // Writes a Ready's snapshot, entries and hard state, and syncs them when Raft requires it,
  // before any of its messages leave. A failed write or sync stops the process.
  void persist_ready(const raft::Ready& rd);
  // Writes a Ready's snapshot (synced), entries and hard state; true when Raft needs them synced.
  bool write_ready(const raft::Ready& rd);
  // With the log syncer (--fsync always): writes the Ready's records and asks the syncer to make
  // them durable, without waiting. Returns the ticket of the sync its messages must wait for
  // (0: none pending).
  uint64_t persist_ready_async(const raft::Ready& rd);
  // Back on the node thread: every sync up to `ticket` is done. Tells Raft the leader's entries
  // are durable and sends the messages that waited.
  void on_synced(uint64_t ticket);
  // Stores `snap` as the node's newest snapshot (file, then its mark in the log).
  // `file_saved`: the file is written already, only its mark is missing.
  void persist_snapshot(const raft::Snapshot& snap, bool replaces_log, bool file_saved = false);
  // The file received for `snap` (a Ready's snapshot without data): checked to match.
  storage::SnapshotFileInfo& received_snapshot_for(const raft::Snapshot& snap);
  void keep_received_snapshot(storage::SnapshotFileInfo file);
  // Removes the received files at `index` and before.
  void drop_received_snapshots_through(raft::Index index);
  // Sends a MsgSnapshot the Raft core made without data from the snapshot's file.
  void send_snapshot_from_file(eraftpb::Message m);
  // Marks `snap`, whose file the builder wrote, as the newest snapshot on disk (unless a newer one
  // is), and releases the log and snapshot files behind it.
  void store_on_disk(const raft::Snapshot& snap);
  // Out of space (docs/storage.md): notices when the log's reserve is gone, and tries to get it
  // back (`retry`) once space may have been freed.
  void check_disk_space(bool retry);
  // The refusal of a write while the disk is full.
  Outcome no_space() const;

  // node_membership.cc: membership, snapshots, eviction, clock ticks, recovery.
  void admin_on_node(net::AdminCommand cmd, Done done, uint32_t hops);
  void propose_conf_change(const raft::ConfChangeV2& cc, Done done);
  void apply_conf_change(const raft::Entry& e);
  void sync_transport_peers();
  void leader_duties(Clock::time_point now);
  void promote_caught_up_learners();
  // Leader, before proposing writes that may add `incoming` bytes: proposes an Evict entry of
  // the keys that make room for them and for the writes proposed but not applied yet.
  void make_room_for(uint64_t incoming);
  // Forgets the estimates of writes applied through applied_ (or all, on losing leadership).
  void release_unapplied_writes(bool all);
  // Starts a snapshot when a follower needs one or the log is due for compaction (on disk the log
  // is released only behind a durable snapshot); compacts the log in memory.
  void maybe_snapshot();
  // Captures the applied state and hands it to the builder's thread (snapshot_builder.h).
  void start_snapshot();
  // Back on the node thread: keeps the built snapshot in storage for followers, marks its file
  // in the log and releases the log behind it.
  void on_snapshot_built(SnapshotBuilder::Built built);
  // Drops the in-memory log behind applied_, but for a bounded tail.
  void compact_log();
  // The bootstrap snapshot's data (built on the calling thread: the state is empty).
  std::string snapshot_data() const;
  // Replaces the applied state by a snapshot's: one in memory (a leader's), or one read from its
  // file in steps (at start-up: never a whole copy in memory beside the cache).
  Status<std::string> restore_snapshot(const raft::Snapshot& snap);
  Status<std::string> restore_snapshot_file(const storage::SnapshotFileInfo& file);
  Status<std::string> restore_state(
      const eraftpb::SnapshotMetadata& meta, AddressBook book,
      const std::function<std::unique_ptr<cache::SnapshotSource>()>& open);
  void check_transfer();
  bool recovery_blocks(const eraftpb::Message& m);
  // After stepping an append (its term, sender and commit index): a recovering node takes its
  // catch-up target from it if it came from the current leader (see recovering_).
  void note_recovery_target(raft::Term term, net::NodeId from, raft::Index commit);
  // Whether `id` votes in the membership this node has applied.
  bool is_voter(net::NodeId id) const;
  // A joining node asks the member named by --join to admit it (Env::request_admission), again
  // a second after each failure (the tick asks), up to kAdmissionAttempts times.
  void ask_admission();
  void on_admission(const Result<std::string, std::string>& answer);
  // What an AddNode answers: the cluster id and the members' addresses, which the new node needs
  // before the leader's snapshot brings them ("cluster=<16 hex> 1=host:port,...").
  std::string admission_answer() const;

  const NodeConfig config_;
  std::unique_ptr<cache::Engine> engine_;
  std::optional<HardStateFile> hard_state_file_;
  std::unique_ptr<storage::Wal> wal_;                 // config.durable only
  std::optional<storage::SnapshotFiles> snap_files_;  // config.durable only
  TermAndVote persisted_;
  raft::MemStorage storage_;
  std::unique_ptr<raft::RawNode> raw_;
  raft::ConfState conf_state_;
  AddressBook book_;
  std::map<net::NodeId, std::string> learned_addrs_;  // learn_address(): peers book_ lacks
  std::unique_ptr<net::PeerTransport> transport_;
  std::optional<SnapshotSender> snapshot_sender_;        // node thread only
  std::unique_ptr<SnapshotReceiver> snapshot_receiver_;  // thread-safe
  // Leaders' snapshots received to disk, stepped into Raft without their data, by index: one is
  // installed from its file when its Ready comes (moved into snap_files_ first when durable); the
  // rest are removed once the state has passed them. (Two transfers from two leaders may end
  // close together.)
  std::map<raft::Index, storage::SnapshotFileInfo> received_snapshots_;
  // The snapshot Raft's storage holds without its data, in its file: what the sender reads when
  // the Raft core sends it (its data's checksum known from the build).
  struct SendableSnapshot {
    raft::Index index = 0;
    raft::Term term = 0;
    std::string path;
    uint64_t offset = 0;
    uint64_t bytes = 0;
    uint64_t checksum = 0;
  };
  std::optional<SendableSnapshot> sendable_snapshot_;

  std::unique_ptr<Env> env_;
  asio::io_context& io_;  // env_->io(): the node's task queue
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  int admission_attempts_ = 0;                           // task queue only
  std::optional<Clock::time_point> admission_retry_at_;  // the next attempt, after a failure
  // After io_ (its results are posted there) and the engine and files it reads: destroyed, and
  // its thread joined, before them.
  std::unique_ptr<SnapshotBuilder> snapshot_builder_;
  std::unique_ptr<LogSync> syncer_;  // config.durable and config.fsync only

  // Node thread only.
  bool process_scheduled_ = false;
  bool stopping_ = false;
  bool stopped_on_thread_ = false;
  bool handing_over_ = false;
  bool append_accepted_ = false;  // a leader's append was accepted since this process started  //
                                  // stopping, and leadership is being transferred
  Clock::time_point stop_deadline_{};
  raft::SoftState soft_;
  std::deque<Queued> queue_;  // writes waiting to be proposed (leader)
  // Leader: the large write being proposed fragment by fragment, and the first index of one given
  // up after some of its fragments went out (its abort is proposed when it can be).
  struct Upload {
    std::string data;  // the write's entry data (one command, its time stamped)
    Done done;
    uint64_t footprint = 0;  // estimated memory, as for a batch
    size_t sent = 0;         // bytes proposed so far
    raft::Index first = 0;   // index and term of the first fragment
    raft::Term term = 0;
  };
  std::optional<Upload> upload_;
  std::optional<raft::Index> upload_abort_;
  // Every replica: the fragments of one large write applied so far. Dropped by an abort, by an
  // entry of a later term (that leader never finishes it) and by an installed snapshot; no
  // snapshot is taken while it holds anything, so the log after a snapshot has every fragment.
  struct Staging {
    raft::Index first = 0;
    raft::Term term = 0;
    uint64_t total = 0;
    std::string data;
  };
  std::optional<Staging> staging_;
  static constexpr size_t kFragmentBytes = 4 << 20;
  static constexpr size_t kUploadBytesPerTurn = 8 << 20;
  std::map<raft::Index, Proposal> proposals_;  // proposed, waiting to apply, by log index
  size_t proposed_requests_ = 0;               // requests in proposals_
  std::vector<Done> read_queue_;
  std::map<std::string, ReadBatch> read_batches_;  // by ReadIndex context
  // Read contexts and forward ids must not collide with those of this node's previous run,
  // whose requests may still be in flight at the leader: both start from a random incarnation.
  uint64_t incarnation_ = 0;
  uint64_t next_read_ctx_ = 1;
  std::unordered_map<uint64_t, Forwarded> forwards_;
  uint64_t next_forward_id_ = 1;
  std::optional<Transfer> transfer_;
  raft::Index applied_ = 0;
  raft::Term applied_term_ = 0;          // term of the entry (or snapshot) at applied_
  std::string stored_members_;           // the membership text last stored in data_dir
  cache::StampedCommand apply_scratch_;  // the command being applied, decoded into reused strings
  std::vector<Outcome> apply_outcomes_;  // a batch's outcomes (reused: see apply_normal)
  // The log's disk has no reserve left: client writes and conf changes are refused, appends from
  // a leader are not taken, until space comes back (check_disk_space).
  bool disk_full_ = false;
  bool snapshot_wanted_ = false;           // a follower needs one: build it and keep its data
  Clock::time_point snapshot_retry_at_{};  // after a snapshot file could not be written
  // With the log syncer: what each Ready left waiting for its sync, in order.
  struct Held {
    uint64_t ticket = 0;
    std::vector<raft::Message> messages;
    raft::Index last_index = 0;  // the Ready's last new entry (0: none), for Raft once durable
    raft::Term last_term = 0;
  };
  std::deque<Held> held_;
  uint64_t sync_requested_ = 0;          // the last ticket asked of the syncer
  uint64_t synced_ = 0;                  // the last ticket it reported
  raft::Index disk_snapshot_index_ = 0;  // of the newest snapshot file
  raft::Index last_compact_index_ = 0;
  uint64_t applied_bytes_since_compact_ = 0;
  Clock::time_point last_time_carried_{};
  // Leader: the last entry it proposed in `term` and the wall-clock time that entry carries
  // (carry_clock_for_reads()).
  struct Carried {
    raft::Term term = 0;
    raft::Index index = 0;
    int64_t ms = 0;
  } carried_;
  std::optional<raft::Index> eviction_in_flight_;
  // Leader: writes proposed and not yet applied, by index, with their estimated memory (encoded
  // bytes plus kEntryOverheadEstimate each), and their sum: room is made for them ahead.
  std::deque<std::pair<raft::Index, uint64_t>> unapplied_writes_;
  uint64_t unapplied_write_bytes_ = 0;
  // Memory a stored key takes beyond its key and value: entry header and allocator rounding,
  // hash-table slot, policy node (docs/cache.md, "Memory").
  static constexpr uint64_t kEntryOverheadEstimate = 64;
  // How long past its deadline (by the leader's clock) a linearizable read may still see a key
  // (carry_clock_for_reads()).
  static constexpr int64_t kExpiryReadSlackMs = 2;
  // Raft's budget for the entries of one append beyond its first (raft::Config::max_size_per_msg).
  static constexpr size_t kAppendBudget = 1 << 20;
  uint64_t ticks_ = 0;
  // Returns freed memory to the system once more is kept than max(floor, allocated): checked every
  // tick (docs/node.md, "Memory"). The floor is well above what a compaction frees at once (the
  // log up to compact_bytes and its tail, in entries up to twice it while a build holds the
  // compaction back), which the next writes take again.
  MemoryKeeper memory_keeper_{config_.compact_bytes * 3 + (64u << 20)};
  uint64_t long_turns_ = 0;                 // turns of process() over a quarter election timeout
  Clock::time_point last_long_turn_log_{};  // when the last one was logged
  std::map<net::NodeId, std::string> transport_peers_;
  // Recovery (docs/node.md, "Restarts"): a node that was a member before but lost its log does not
  // vote or campaign until it has applied what a leader had committed when it came back: a
  // commit index heard from the current leader after the listening window, reached by applying an
  // entry of that leader's own term (only then does the commit index cover everything committed
  // in earlier terms, thesis §3.6.2).
  bool recovering_ = false;
  Clock::time_point recovery_listen_from_{};
  raft::Index recovery_target_ = 0;

  std::atomic<net::NodeId> leader_{0};
  std::atomic<uint64_t> cluster_id_{0};
  std::atomic<bool> stopped_{false};
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> started_{false};
};

}  // namespace cairn::node
