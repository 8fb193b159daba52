// The Engine's readers: any thread, concurrently with apply, under the shared lock. They never
// change the keyspace; the only writes are the entry's atomic policy word and the hit/miss
// counters. Expiry is judged against clock_ms_, the replicated clock of the state being read.
#include <algorithm>
#include <mutex>

#include "cache/engine.h"
#include "cache/strings.h"

namespace cairn::cache {

const Entry* Engine::find_visible(std::string_view key, bool count) const {
  Entry* e = table_.find(key, hash_key(key));
  if (e != nullptr && e->expired_at(clock_ms_)) e = nullptr;
  if (!count) return e;  // TTL and EXPIRETIME neither count nor touch, as in Redis
  (e != nullptr ? hits_ : misses_).fetch_add(1, std::memory_order_relaxed);
  if (e != nullptr) policy_->on_access(e);
  return e;
}

std::optional<Bytes> Engine::get(std::string_view key) const {
  std::shared_lock lock(mu_);
  const Entry* e = find_visible(key, true);
  if (e == nullptr) return std::nullopt;
  return Bytes(e->value());
}

int64_t Engine::exists(const std::vector<Bytes>& keys) const {
  std::shared_lock lock(mu_);
  int64_t n = 0;
  for (const Bytes& k : keys)
    n += find_visible(k, true) != nullptr ? 1 : 0;
  return n;
}

int64_t Engine::pttl(std::string_view key) const {
  std::shared_lock lock(mu_);
  const Entry* e = find_visible(key, false);
  if (e == nullptr) return kTtlNoKey;
  if (!e->has_expiry()) return kTtlNoExpiry;
  return e->expire_ms() - clock_ms_;
}

int64_t Engine::pexpiretime(std::string_view key) const {
  std::shared_lock lock(mu_);
  const Entry* e = find_visible(key, false);
  if (e == nullptr) return kTtlNoKey;
  return e->has_expiry() ? e->expire_ms() : kTtlNoExpiry;
}

int64_t Engine::strlen(std::string_view key) const {
  std::shared_lock lock(mu_);
  const Entry* e = find_visible(key, true);
  return e == nullptr ? 0 : static_cast<int64_t>(e->value_len);
}

Bytes Engine::getrange(std::string_view key, int64_t start, int64_t end) const {
  std::shared_lock lock(mu_);
  const Entry* e = find_visible(key, true);
  if (e == nullptr) return {};
  // Redis's getrangeCommand: negative indexes count from the end, then clamp.
  const auto len = static_cast<int64_t>(e->value_len);
  if (start < 0 && end < 0 && start > end) return {};
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (len == 0 || start > end) return {};
  return Bytes(e->value().substr(static_cast<size_t>(start), static_cast<size_t>(end - start + 1)));
}

ScanPage Engine::scan(uint64_t cursor, std::string_view pattern, size_t count) const {
  std::shared_lock lock(mu_);
  const bool all = pattern == "*";
  ScanPage page;
  // As Redis: visit buckets until about `count` keys were seen (at most 10 * count buckets, so a
  // sparse table still returns promptly), filtering expired and non-matching keys afterwards.
  // Unlike Redis, one call does at most kScanMaxVisits of either, however large COUNT is: a
  // reader holds the lock apply needs (docs/resp.md, "SCAN"). COUNT is only a hint in Redis too.
  const size_t limit = kScanMaxVisits;
  count = std::min(std::max<size_t>(count, 1), limit);
  size_t seen = 0;
  size_t buckets = 0;
  const size_t max_buckets = std::min(count * 10, limit);
  do {
    cursor = table_.scan(cursor, [&](const Entry* e) {
      ++seen;
      if (e->expired_at(clock_ms_)) return;
      if (!all && !glob_match(pattern, e->key())) return;
      page.keys.emplace_back(e->key());
    });
    ++buckets;
  } while (cursor != 0 && seen < count && buckets < max_buckets);
  page.cursor = cursor;
  return page;
}

std::vector<Bytes> Engine::keys(std::string_view pattern) const {
  KeysWalk walk;
  walk.pattern = pattern;
  while (!keys_step(walk)) {
  }
  std::vector<Bytes> out;
  out.reserve(walk.size());
  for (size_t i = 0; i < walk.size(); ++i)
    out.emplace_back(walk.key(i));
  return out;
}

bool Engine::keys_step(KeysWalk& walk) const {
  std::shared_lock lock(mu_);
  const bool all = walk.pattern == "*";
  const auto take = [&](const Entry* e) {
    if (e->expired_at(clock_ms_)) return;
    if (!all && !glob_match(walk.pattern, e->key())) return;
    if (walk.dedupe && !walk.seen.emplace(e->key()).second) return;
    walk.flat.append(e->key());
    walk.ends.push_back(walk.flat.size());
  };
  if (!walk.started) {
    walk.started = true;
    if (table_.size() <= kKeysAtOnce) {
      table_.for_each(take);
      return true;
    }
    walk.in_steps = true;
    walk.shrinks = table_.shrinks();
    walk.dedupe = table_.shrinking();
  }
  if (!walk.dedupe && table_.shrinks() != walk.shrinks) {
    // Rare (many deletes while KEYS walks): from now on remember every key to keep each once.
    walk.dedupe = true;
    for (size_t i = 0; i < walk.size(); ++i)
      walk.seen.emplace(walk.key(i));
  }
  size_t visits = 0;  // keys and buckets, as SCAN counts them
  do {
    walk.cursor = table_.scan(walk.cursor, [&](const Entry* e) {
      ++visits;
      take(e);
    });
    ++visits;
  } while (walk.cursor != 0 && visits < kScanMaxVisits);
  return walk.cursor == 0;
}

namespace {
struct ReaderRng {
  uint64_t state;
  static uint64_t next(void* self) {
    auto* s = static_cast<ReaderRng*>(self);
    uint64_t z = (s->state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
};
}  // namespace

std::optional<Bytes> Engine::random_key() const {
  std::shared_lock lock(mu_);
  ReaderRng rng{config_.seed ^ random_seq_.fetch_add(1, std::memory_order_relaxed) * 0x2545F491};
  // Expired keys may still be held; give up after 100 tries as Redis does on replicas.
  for (int i = 0; i < 100; ++i) {
    const Entry* e = table_.random(&ReaderRng::next, &rng);
    if (e == nullptr) return std::nullopt;
    if (!e->expired_at(clock_ms_)) return Bytes(e->key());
  }
  return std::nullopt;
}

uint64_t Engine::dbsize() const {
  std::shared_lock lock(mu_);
  return table_.size();
}

int64_t Engine::clock_ms() const {
  std::shared_lock lock(mu_);
  return clock_ms_;
}

bool Engine::expiry_due(int64_t after_ms, int64_t now_ms) const {
  std::shared_lock lock(mu_);
  return expiry_.any_between(std::max(after_ms, clock_ms_), now_ms);
}

void Engine::reset_stats() {
  std::unique_lock lock(mu_);
  hits_.store(0, std::memory_order_relaxed);
  misses_.store(0, std::memory_order_relaxed);
  evictions_ = 0;
  expirations_ = 0;
}

Stats Engine::stats() const {
  std::shared_lock lock(mu_);
  Stats s;
  s.hits = hits_.load(std::memory_order_relaxed);
  s.misses = misses_.load(std::memory_order_relaxed);
  s.evictions = evictions_;
  s.expirations = expirations_;
  s.keys = table_.size();
  s.keys_with_expiry = expiry_.size();
  s.used_memory = used_bytes();
  s.max_memory = config_.max_memory;
  s.clock_ms = clock_ms_;
  s.sessions = sessions_.size();
  s.session_repeats = sessions_.repeats();
  s.lazyfree_pending = reclaimer_.pending();
  return s;
}

}  // namespace cairn::cache
