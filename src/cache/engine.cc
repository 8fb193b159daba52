// Engine core: lookup, insertion, removal, expiry bookkeeping, memory accounting and eviction.
// The command handlers are in engine_apply.cc and the readers in engine_read.cc.
// Threading: everything here runs on the apply thread under the exclusive lock unless noted.
#include <algorithm>
#include <cstring>
#include <limits>
#include <mutex>

#include "cache/engine.h"

namespace cairn::cache {

// Old hash buckets a Tick moves when a resize is in progress (each write moves 4 more).
constexpr size_t kTickRehashBuckets = 4096;

std::optional<std::string> validate(const Config& config) {
  if (config.max_key_bytes > kMaxKeyLen) {
    return "max key size " + std::to_string(config.max_key_bytes) + " is over the limit of " +
           std::to_string(kMaxKeyLen) + " bytes";
  }
  if (config.max_value_bytes > UINT32_MAX) {
    return "max value size " + std::to_string(config.max_value_bytes) + " is over the limit of " +
           std::to_string(UINT32_MAX) + " bytes";
  }
  return std::nullopt;
}

Engine::Engine(Config config)
    : config_(config), policy_(make_policy(config.policy, table_, config.seed)) {
  CAIRN_CHECK(!validate(config_).has_value());
}

Engine::~Engine() {
  clear_all();
}

Reply Engine::apply(const Command& cmd, int64_t time_ms) {
  std::unique_lock lock(mu_);
  return apply_locked(cmd, time_ms);
}

Reply Engine::apply_locked(const Command& cmd, int64_t time_ms) {
  clock_ms_ = std::max(clock_ms_, time_ms);
  Reply reply = dispatch(cmd);
  trim();
  last_written_ = nullptr;
  bool tick = std::holds_alternative<Tick>(cmd);
  expire_some(tick ? config_.active_expire_per_tick : config_.active_expire_per_apply);
  // A Tick is idle time: push a table resize along so memory returns without further writes.
  if (tick) table_.rehash_some(kTickRehashBuckets);
  return reply;
}

size_t Engine::expire_some(size_t budget) {
  size_t n = 0;
  while (n < budget) {
    Entry* e = expiry_.first_expired(clock_ms_);
    if (e == nullptr) break;
    remove(e, hash_key(e->key()), Removal::kExpire);
    ++n;
  }
  if (n > 0) table_.maybe_shrink();
  return n;
}

Engine::Lookup Engine::find_live(std::string_view key) {
  uint64_t h = hash_key(key);
  Entry* e = table_.find(key, h);
  if (e != nullptr && e->expired_at(clock_ms_)) {
    remove(e, h, Removal::kExpire);
    e = nullptr;
  }
  return {e, h};
}

void Engine::remove(Entry* e, uint64_t hash, Removal why) {
  if (e == last_written_) last_written_ = nullptr;
  if (!pending_evictions_.empty() && pending_evictions_.erase(e) > 0) {
    policy_->forget(e);
  } else {
    policy_->on_remove(e);
  }
  if (e->has_expiry()) expiry_.remove(e);
  table_.unlink(e, hash);
  entry_bytes_ -= entry_footprint(e);
  if (why == Removal::kExpire) ++expirations_;
  if (why == Removal::kEvict) ++evictions_;
  release(e);
}

void Engine::set_expiry(Entry* e, int64_t expire_ms) {
  if (e->has_expiry()) expiry_.remove(e);
  e->set_expire_ms(expire_ms);
  if (expire_ms != kNoExpiry) expiry_.add(e);
}

void Engine::release(Entry* e) {
  if (snapshot_active_.load(std::memory_order_relaxed)) {
    retired_.push_back(e);
  } else {
    entry_free(e);
  }
}

Entry* Engine::block_for(Entry* old, std::string_view key, std::string_view value) {
  if (old == nullptr || old->value_len != value.size() ||
      snapshot_active_.load(std::memory_order_relaxed)) {
    return entry_new(key, value);
  }
  if (!value.empty()) std::memcpy(old->value_data(), value.data(), value.size());
  return old;
}

void Engine::install(Entry* old, Entry* fresh, uint64_t hash, int64_t expire_ms) {
  if (old == fresh) {
    if (fresh->expire_ms() != expire_ms) set_expiry(fresh, expire_ms);
    policy_->on_access(fresh);
    last_written_ = fresh;
    return;
  }
  if (old != nullptr) {
    if (old->has_expiry()) expiry_.remove(old);
    table_.replace(old, fresh, hash);
    if (!pending_evictions_.empty() && pending_evictions_.erase(old) > 0) {
      policy_->forget(old);
      policy_->on_insert(fresh, hash);  // old had left the policy: the new block starts afresh
    } else {
      policy_->on_replace(old, fresh);
    }
    policy_->on_access(fresh);
    entry_bytes_ -= entry_footprint(old);
    release(old);
  } else {
    table_.insert(fresh, hash);
    policy_->on_insert(fresh, hash);
  }
  entry_bytes_ += entry_footprint(fresh);
  last_written_ = fresh;
  fresh->set_expire_ms(expire_ms);
  if (expire_ms != kNoExpiry) expiry_.add(fresh);
}

uint64_t Engine::used_memory() const {
  std::shared_lock lock(mu_);
  return used_bytes();
}

uint64_t Engine::used_bytes() const {
  return entry_bytes_ + table_.memory() + policy_->memory() + expiry_.memory() + sessions_.bytes();
}

bool Engine::reserve(int64_t need, const Entry* protect) {
  if (config_.max_memory == 0 || need <= 0) return true;
  if (!config_.evict_on_apply && config_.policy != EvictionPolicy::kNoEviction) return true;
  const auto want = static_cast<uint64_t>(need);
  while (used_bytes() + want > config_.max_memory) {
    Entry* victim = policy_->victim(protect);
    if (victim == nullptr) return false;
    remove(victim, hash_key(victim->key()), Removal::kEvict);
  }
  return true;
}

void Engine::trim() {
  if (config_.max_memory == 0 || !config_.evict_on_apply) return;
  while (used_bytes() > config_.max_memory) {
    Entry* victim = policy_->victim(last_written_);
    if (victim == nullptr) return;
    remove(victim, hash_key(victim->key()), Removal::kEvict);
  }
}

Error Engine::oom() const {
  return {ErrorCode::kOutOfMemory, std::string(kErrOom)};
}

std::optional<Error> Engine::check_sizes(std::string_view key, size_t value_len) const {
  if (key.size() > config_.max_key_bytes) {
    return Error{ErrorCode::kKeyTooLarge, "ERR key of " + std::to_string(key.size()) +
                                              " bytes exceeds the maximum key size of " +
                                              std::to_string(config_.max_key_bytes) + " bytes"};
  }
  if (value_len > config_.max_value_bytes) {
    return Error{ErrorCode::kValueTooLarge, "ERR value of " + std::to_string(value_len) +
                                                " bytes exceeds the maximum value size of " +
                                                std::to_string(config_.max_value_bytes) + " bytes"};
  }
  return std::nullopt;
}

Result<int64_t, Error> Engine::resolve(const Expiry& x, bool positive, std::string_view cmd) const {
  // Built only when needed: this runs for every write.
  const auto invalid = [cmd] {
    return Error{ErrorCode::kInvalidExpire,
                 "ERR invalid expire time in '" + std::string(cmd) + "' command"};
  };
  int64_t at = 0;
  switch (x.kind) {
    case Expiry::Kind::kNone:
    case Expiry::Kind::kPersist:
      return kNoExpiry;
    case Expiry::Kind::kKeep:
      return kNoExpiry;  // callers handle kKeep before resolving
    case Expiry::Kind::kRelative:
      if (positive && x.ms <= 0) return Err(invalid());
      if (x.ms > 0 && clock_ms_ > std::numeric_limits<int64_t>::max() - x.ms) return Err(invalid());
      if (x.ms < 0 && clock_ms_ < std::numeric_limits<int64_t>::min() - x.ms) return Err(invalid());
      at = clock_ms_ + x.ms;
      break;
    case Expiry::Kind::kAbsolute:
      if (positive && x.ms <= 0) return Err(invalid());
      at = x.ms;
      break;
  }
  if (at > kMaxExpireMs) return Err(invalid());
  return at;
}

std::vector<Bytes> Engine::eviction_candidates(size_t max_keys, uint64_t incoming) {
  std::unique_lock lock(mu_);
  std::vector<Bytes> keys;
  if (config_.max_memory == 0) return keys;
  const uint64_t used = used_bytes() + incoming;
  uint64_t freed = 0;
  // Entries already handed out will be removed when their Evict applies: count them as freed.
  for (const Entry* e : pending_evictions_)
    freed += entry_footprint(e);
  // Sampling policies (allkeys-lru) may draw an entry already handed out: skip it, a bounded
  // number of times (the more were handed out, the likelier a draw hits one).
  size_t misses = 0;
  while (used > config_.max_memory + freed && keys.size() < max_keys &&
         misses < 64 + 4 * (keys.size() + pending_evictions_.size())) {
    Entry* victim = policy_->victim(nullptr);
    if (victim == nullptr) break;
    if (pending_evictions_.count(victim) != 0) {
      ++misses;
      continue;
    }
    policy_->on_remove(victim);
    pending_evictions_.insert(victim);
    freed += entry_footprint(victim);
    keys.emplace_back(victim->key());
  }
  return keys;
}

void Engine::cancel_evictions() {
  std::unique_lock lock(mu_);
  for (Entry* e : pending_evictions_)
    policy_->on_insert(e, hash_key(e->key()));
  pending_evictions_.clear();
}

void Engine::clear_all() {
  pending_evictions_.clear();
  policy_->clear();
  const size_t n = table_.size();
  if (n < kLazyFreeKeys || snapshot_active_.load(std::memory_order_relaxed)) {
    // Small, or a snapshot may still read the entries (release() keeps them for it).
    table_.clear([this](Entry* e) { release(e); });
    expiry_.clear();
  } else {
    // Everything leaves the keyspace in O(1); the reclaimer frees it off the apply thread.
    auto job = [chains = std::make_shared<Table::Chains>(table_.detach()),
                expiring = std::make_shared<ExpiryIndex::Nodes>(expiry_.take())] {
      expiring->clear();
      chains->drain([](Entry* e) { entry_free(e); });
    };
    reclaimer_.post(std::move(job), n);
  }
  entry_bytes_ = 0;
}

void Engine::check_invariants() const {
  std::shared_lock lock(mu_);
  uint64_t bytes = 0;
  size_t with_expiry = 0;
  size_t n = 0;
  table_.for_each([&](const Entry* e) {
    bytes += entry_footprint(e);
    if (e->has_expiry()) ++with_expiry;
    CAIRN_CHECK(table_.find(e->key(), hash_key(e->key())) == e);  // reachable from its key
    ++n;
  });
  CAIRN_CHECK(n == table_.size());
  CAIRN_CHECK(bytes == entry_bytes_);
  CAIRN_CHECK(with_expiry == expiry_.size());
  for (const Entry* e : pending_evictions_)
    CAIRN_CHECK(table_.find(e->key(), hash_key(e->key())) == e);
  if (auto tracked = policy_->tracked()) CAIRN_CHECK(*tracked + pending_evictions_.size() == n);
}

}  // namespace cairn::cache
