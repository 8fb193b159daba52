// Engine: the cache state machine behind Raft. One per node, owned by the node layer.
//
// Threading rule: apply() (and restore_snapshot, eviction_candidates, cancel_evictions) is called
// by one apply thread at a time and takes the exclusive lock; the read methods may be called from
// any number of threads concurrently with apply and with each other and take the shared lock
// (writer-preferring, see rwlock.h, so readers cannot starve apply). A snapshot may stream on
// another thread while apply goes on (snapshot.h). Readers never modify the keyspace: an expired
// key is simply invisible to them, and the apply thread reclaims it.
//
// Determinism: apply(cmd, time_ms) reads no clock. The engine keeps a replicated clock,
// clock = max(clock, time_ms of every applied command), and judges expiry only against it, so
// replicas that applied the same log prefix agree on every key's visibility (eviction aside, which
// is a node-local decision: a miss is a legal cache answer, a wrong value never is). Reads judge
// expiry against the clock of the state they read, so a linearizable read served after applying
// up to its read index sees at least the clock of every earlier read (docs/cache.md, "Expiry").
//
// Invariants (check_invariants() verifies them, as far as counts allow, in tests):
//  1. every entry in table_ is in the policy's structures or in pending_evictions_ (not both),
//     and in expiry_ iff it has an expiry.
//  2. entry_bytes_ == sum of entry_footprint(e) over table_.
//  3. clock_ms_ never decreases, except that restoring a snapshot installs the snapshot's clock.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "cache/codec.h"
#include "cache/command.h"
#include "cache/entry.h"
#include "cache/expiry.h"
#include "cache/policy.h"
#include "cache/reclaimer.h"
#include "cache/rwlock.h"
#include "cache/sessions.h"
#include "cache/table.h"
#include "common/result.h"

namespace cairn::cache {

struct Config {
  uint64_t max_memory = 0;  // bytes of data structures (used_memory); 0 = no limit
  EvictionPolicy policy = EvictionPolicy::kS3Fifo;
  uint64_t max_value_bytes = 512ull * 1024 * 1024;  // Redis's proto-max-bulk-len default
  uint64_t max_key_bytes = kMaxKeyLen;              // may be lowered, never raised
  // true: apply evicts on its own when over max_memory (a node-local decision; right for a single
  // node). false: replicated eviction: apply never evicts; the leader asks
  // eviction_candidates() and proposes an Evict command, so every replica drops the same keys and
  // a read-modify-write on an evicted key computes the same result everywhere (docs/cache.md).
  bool evict_on_apply = true;
  uint32_t active_expire_per_apply = 32;
  uint32_t active_expire_per_tick = 10000;
  uint64_t seed = 0x6361697263616368;  // sampling seed for allkeys-lru and randomkey
};

// Why a configuration cannot be used, in words for the operator, or nullopt if it can. The Engine
// constructor aborts on an invalid one, so callers taking limits from flags check them here first.
std::optional<std::string> validate(const Config& config);

struct Stats {
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t evictions = 0;
  uint64_t expirations = 0;  // keys removed because their time came (lazily or actively)
  uint64_t keys = 0;         // entries held, including expired ones not yet reclaimed (as Redis)
  uint64_t keys_with_expiry = 0;
  uint64_t used_memory = 0;
  uint64_t max_memory = 0;
  int64_t clock_ms = 0;
  uint64_t sessions = 0;          // client sessions held (sessions.h)
  uint64_t session_repeats = 0;   // session writes answered from the table, not applied again
  uint64_t lazyfree_pending = 0;  // flushed keys not yet freed (Engine::lazyfree_pending)
};

// KEYS over a keyspace too large to read at once: the walk's state between Engine::keys_step
// calls. Owned by the caller; key(0) .. key(size() - 1) are the answer once a step returns true.
struct KeysWalk {
  Bytes pattern;
  // The keys found, end to end in one buffer (a million keys cost two allocations, not a
  // million): key i is flat[ends[i-1], ends[i]).
  Bytes flat;
  std::vector<size_t> ends;
  uint64_t cursor = 0;
  bool started = false;
  bool in_steps = false;
  uint64_t shrinks = 0;  // the table's shrink count when the walk began
  // Only once the table shrank under a walk in steps (which may show a key twice): every key
  // kept so far, so each is kept once.
  bool dedupe = false;
  std::unordered_set<Bytes> seen;

  size_t size() const { return ends.size(); }
  std::string_view key(size_t i) const {
    const size_t begin = i == 0 ? 0 : ends[i - 1];
    return std::string_view(flat).substr(begin, ends[i] - begin);
  }
};

struct ScanPage {
  uint64_t cursor = 0;  // 0 when the scan is complete
  std::vector<Bytes> keys;
};

// A value's remaining time to live as TTL/PTTL report it: -2 no key, -1 no expiry.
inline constexpr int64_t kTtlNoKey = -2;
inline constexpr int64_t kTtlNoExpiry = -1;

class Engine {
 public:
  explicit Engine(Config config = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Applies one committed command stamped with the leader's time. Apply thread only.
  Reply apply(const Command& cmd, int64_t time_ms);
  // Applies several commands under one exclusive lock (apply thread only): readers wait once for
  // a whole batch instead of taking turns with each of its commands. Same results as apply().
  class Batch {
   public:
    explicit Batch(Engine& engine) : engine_(engine), lock_(engine.mu_) {}
    Reply apply(const Command& cmd, int64_t time_ms) { return engine_.apply_locked(cmd, time_ms); }

   private:
    Engine& engine_;
    std::unique_lock<RwLock> lock_;
  };

  // Apply thread: a key a command applied soon will look up. prefetch() fetches its bucket into
  // the cache and returns its hash; prefetch_chain(hash), called later, its chain's first entry.
  // Only hints: no effect on results.
  uint64_t prefetch(std::string_view key) const {
    const uint64_t h = hash_key(key);
    table_.prefetch_bucket(h);
    return h;
  }
  void prefetch_chain(uint64_t hash) const { table_.prefetch_chain(hash); }

  // Reads: any thread, concurrent with apply.
  std::optional<Bytes> get(std::string_view key) const;
  // GET without a copy: calls fn(std::string_view value) under the shared lock (so fn must be
  // short and must not call back into the engine) and returns true, or returns false on a miss.
  // Lets the RESP layer write the value straight into its output buffer.
  template <typename Fn>
  bool get_with(std::string_view key, Fn&& fn) const {
    std::shared_lock lock(mu_);
    const Entry* e = find_visible(key, true);
    if (e == nullptr) return false;
    fn(e->value());
    return true;
  }
  int64_t exists(const std::vector<Bytes>& keys) const;  // number of keys present (repeats count)
  int64_t pttl(std::string_view key) const;              // ms, or kTtlNoKey / kTtlNoExpiry
  int64_t pexpiretime(std::string_view key) const;       // absolute ms, or kTtlNoKey / kTtlNoExpiry
  int64_t strlen(std::string_view key) const;
  Bytes getrange(std::string_view key, int64_t start, int64_t end) const;
  // SCAN cursor [MATCH pattern] [COUNT count]: visits buckets until about `count` keys were seen,
  // and never more than kScanMaxVisits keys or buckets in one call, so no COUNT holds the lock
  // (and with it apply) for long.
  static constexpr size_t kScanMaxVisits = 16384;
  ScanPage scan(uint64_t cursor, std::string_view pattern = "*", size_t count = 10) const;
  // Every matching key, the steps of keys_step taken one after another (tests and tools; the
  // RESP front end runs the steps itself, letting other work in between).
  std::vector<Bytes> keys(std::string_view pattern) const;
  // KEYS in bounded steps; true when the walk's keys are complete. A keyspace of at most
  // kKeysAtOnce keys is read whole by the first step (one atomic read, as Redis's KEYS). A larger
  // one is walked kScanMaxVisits keys per step with SCAN's promise: a matching key present from the
  // first step to the last is returned, once; one written or deleted meanwhile may or may not be.
  // Between steps the caller lets apply and other clients go on (docs/resp.md, "KEYS").
  static constexpr size_t kKeysAtOnce = 65536;
  bool keys_step(KeysWalk& walk) const;
  std::optional<Bytes> random_key() const;
  uint64_t dbsize() const;
  // Keys dropped by a flush (or a snapshot's restore) not yet freed: a flush of at least
  // kLazyFreeKeys keys empties the keyspace at once and frees it on another thread.
  static constexpr size_t kLazyFreeKeys = 1024;
  size_t lazyfree_pending() const { return reclaimer_.pending(); }
  // Blocks until every flushed key has been freed (tests).
  void wait_lazyfree() { reclaimer_.wait_idle(); }
  Stats stats() const;
  // CONFIG RESETSTAT: zeroes hits, misses, evictions and expirations. Any thread (takes the
  // exclusive lock briefly).
  void reset_stats();
  int64_t clock_ms() const;
  // True if some key expires later than both the replicated clock and `after_ms`, and no later
  // than `now_ms`: a clock of `now_ms` would hide a key that reads at the replicated clock still
  // see. Any thread (shared lock); O(log keys with an expiry).
  bool expiry_due(int64_t after_ms, int64_t now_ms) const;

  // Replicated eviction (evict_on_apply == false), on the leader, apply thread: keys to propose in
  // an Evict command so that used memory, plus `incoming` bytes of writes about to be applied,
  // returns under max_memory; at most max_keys. The chosen entries leave the policy's queues (so
  // the next call picks others) until they are removed or cancel_evictions() is called (after a
  // failed proposal or a lost leadership).
  std::vector<Bytes> eviction_candidates(size_t max_keys, uint64_t incoming = 0);
  void cancel_evictions();

  // Used memory as accounted: entries, hash table, policy and expiry structures. Any thread.
  uint64_t used_memory() const;
  const Config& config() const { return config_; }
  // Verifies the invariants above (O(n)); aborts with CAIRN_CHECK on a violation. Tests only.
  void check_invariants() const;

 private:
  friend class SnapshotWriter;
  friend class SnapshotLoader;
  enum class Removal { kDelete, kExpire, kEvict };
  struct Lookup {
    Entry* entry;
    uint64_t hash;
  };

  // All below: apply thread, exclusive lock held.
  Reply apply_locked(const Command& cmd, int64_t time_ms);
  Reply dispatch(const Command& cmd);
  Reply do_put(const Put& c);
  Reply do_delete(const Delete& c);
  Reply do_clear();
  Reply do_expire(const Expire& c);
  Reply do_persist(const Persist& c);
  Reply do_incrby(const IncrBy& c);
  Reply do_incrbyfloat(const IncrByFloat& c);
  Reply do_append(const Append& c);
  Reply do_setrange(const SetRange& c);
  Reply do_getdel(const GetDel& c);
  Reply do_rename(const Rename& c);
  Reply do_copy(const Copy& c);
  Reply do_setbit(const SetBit& c);
  Reply do_bitop(const BitOp& c);
  Reply do_bitfield(const BitField& c);
  Entry* zero_extended(Entry* e, std::string_view key, size_t len);
  std::optional<Reply> place_copy(const Entry* from, std::string_view to_key, int64_t freed);
  Reply do_getex(const GetEx& c);
  Reply do_cas(const CompareAndSet& c);
  Reply do_evict(const Evict& c);
  Reply do_put_many(const PutMany& c);
  Reply do_session_write(const SessionWrite& c);

  // Frees an entry that has left the keyspace, or, while a snapshot is streaming, keeps it on
  // retired_ until the snapshot ends (the snapshot may still be reading it).
  void release(Entry* e);
  // Finds a key, deleting it first if it has expired (lazy expiry on the write path).
  Lookup find_live(std::string_view key);
  void remove(Entry* e, uint64_t hash, Removal why);
  // Makes room for `need` more bytes, evicting if the policy allows; never evicts `protect`.
  bool reserve(int64_t need, const Entry* protect);
  // Puts `fresh` in place of `old` (or inserts it if old is null), moving policy state and
  // setting the expiry (kNoExpiry for none). Frees old unless fresh == old.
  void install(Entry* old, Entry* fresh, uint64_t hash, int64_t expire_ms);
  void set_expiry(Entry* e, int64_t expire_ms);
  // An entry holding `value` for key: `old` itself, rewritten in place, when the value length is
  // unchanged (safe: the exclusive lock keeps readers out), else a new block. Pass the result to
  // install().
  Entry* block_for(Entry* old, std::string_view key, std::string_view value);
  // Turns an Expiry into an absolute time or the Redis error; `positive` rejects times <= 0.
  Result<int64_t, Error> resolve(const Expiry& x, bool positive, std::string_view cmd) const;
  std::optional<Error> check_sizes(std::string_view key, size_t value_len) const;
  Error oom() const;
  // used_memory() for callers that already hold the lock (either side).
  uint64_t used_bytes() const;
  // After a write: evicts until used memory is within the limit again (structures such as the
  // hash table grow in steps a write's own estimate does not include); never evicts last_written_.
  void trim();
  size_t expire_some(size_t budget);
  void clear_all();

  // Read helper: the visible entry for key (not expired at clock_ms_); with `count`, records a
  // hit or miss and an access for the eviction policy.
  const Entry* find_visible(std::string_view key, bool count) const;

  const Config config_;
  mutable RwLock mu_;
  // Guarded by mu_ (written under the exclusive lock, read under either).
  Table table_;
  std::unique_ptr<Policy> policy_;
  ExpiryIndex expiry_;
  uint64_t entry_bytes_ = 0;
  Entry* last_written_ = nullptr;  // valid only during one apply
  // Entries handed out by eviction_candidates(): still in table_, no longer in the policy.
  std::unordered_set<Entry*> pending_evictions_;
  // Snapshot streaming (snapshot.cc). While snapshot_active_ is set, apply frees no entry
  // (release() retires it) and rewrites no value in place, so the entries captured by the
  // snapshot stay valid and unchanged without the lock; a set_expiry may still rewrite `meta`,
  // which is why the snapshot captures key length and expiry up front.
  mutable std::atomic<bool> snapshot_active_{false};
  mutable std::vector<Entry*> retired_;  // guarded by mu_
  // One capture at a time: a second waits for the first to end (possibly on another thread).
  mutable std::mutex snapshot_mu_;
  mutable std::condition_variable snapshot_free_;
  mutable bool snapshot_taken_ = false;  // guarded by snapshot_mu_
  int64_t clock_ms_ = 0;
  SessionTable sessions_;
  StampedCommand session_scratch_;  // a session write's command, decoded into reused strings
  uint64_t evictions_ = 0;
  uint64_t expirations_ = 0;
  // Readers' counters.
  mutable std::atomic<uint64_t> hits_{0};
  mutable std::atomic<uint64_t> misses_{0};
  mutable std::atomic<uint64_t> random_seq_{0};
  Reclaimer reclaimer_;
};

}  // namespace cairn::cache
