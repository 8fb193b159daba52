// Table implementation (see table.h for the thread-safety rule, rehashing and invariants).
#include "cache/table.h"

#include <xxhash.h>
#include <cstring>

#include "common/result.h"

namespace cairn::cache {

uint64_t hash_key(std::string_view key) {
  return XXH3_64bits(key.data(), key.size());
}

Table::Table() {
  tables_[0].assign(kMinBuckets, nullptr);
  mask_[0] = kMinBuckets - 1;
}

Entry* Table::find(std::string_view key, uint64_t hash) const {
  for (Entry* e = locate(hash); e != nullptr; e = e->next) {
    if (e->key_len() == key.size() && std::memcmp(e->key_data(), key.data(), key.size()) == 0)
      return e;
  }
  return nullptr;
}

Table::Chains Table::detach() {
  Chains out;
  out.buckets[0] = std::move(tables_[0]);
  out.buckets[1] = std::move(tables_[1]);
  tables_[0] = std::vector<Entry*>(kMinBuckets, nullptr);
  tables_[1] = std::vector<Entry*>();
  mask_[0] = kMinBuckets - 1;
  mask_[1] = 0;
  rehash_ = kNotRehashing;
  size_ = 0;
  return out;
}

void Table::insert(Entry* e, uint64_t hash) {
  Entry*& head = locate(hash);
  e->next = head;
  head = e;
  ++size_;
  if (rehashing()) {
    rehash_step(kStepBuckets, kStepBuckets * 10);
  } else if (size_ > tables_[0].size()) {
    start_resize(tables_[0].size() * 2);
  }
}

void Table::unlink(const Entry* e, uint64_t hash) {
  Entry** link = &locate(hash);
  while (*link != e) {
    CAIRN_CHECK(*link != nullptr);
    link = &(*link)->next;
  }
  *link = e->next;
  --size_;
  if (rehashing()) rehash_step(kStepBuckets, kStepBuckets * 10);
}

void Table::replace(const Entry* old, Entry* fresh, uint64_t hash) {
  Entry** link = &locate(hash);
  while (*link != old) {
    CAIRN_CHECK(*link != nullptr);
    link = &(*link)->next;
  }
  fresh->next = old->next;
  *link = fresh;
}

void Table::maybe_shrink() {
  if (rehashing()) return;
  size_t target = tables_[0].size();
  while (target > kMinBuckets && size_ < target / 8)
    target /= 2;
  // Shrink to twice the size needed so that a few inserts do not grow it straight back.
  if (target * 2 < tables_[0].size()) start_resize(target * 2);
}

void Table::start_resize(size_t buckets) {
  if (rehashing()) finish_rehash();
  if (buckets == tables_[0].size()) return;
  if (buckets < tables_[0].size()) ++shrinks_;
  tables_[1].assign(buckets, nullptr);
  mask_[1] = buckets - 1;
  rehash_ = 0;
}

void Table::rehash_step(size_t buckets, size_t empty_visits) {
  while (buckets > 0 && rehash_ < tables_[0].size()) {
    Entry* e = tables_[0][rehash_];
    if (e == nullptr) {
      ++rehash_;
      if (--empty_visits == 0) break;
      continue;
    }
    tables_[0][rehash_] = nullptr;
    while (e != nullptr) {
      Entry* next = e->next;
      Entry*& slot = tables_[1][hash_key(e->key()) & mask_[1]];
      e->next = slot;
      slot = e;
      e = next;
    }
    ++rehash_;
    --buckets;
  }
  if (rehash_ == tables_[0].size()) {
    tables_[0].swap(tables_[1]);
    mask_[0] = mask_[1];
    tables_[1] = std::vector<Entry*>();  // releases the old array; `= {}` would keep it
    mask_[1] = 0;
    rehash_ = kNotRehashing;
  }
}

void Table::finish_rehash() {
  while (rehashing())
    rehash_step(SIZE_MAX, SIZE_MAX);
}

size_t Table::memory() const {
  size_t bytes = malloc_footprint(tables_[0].size() * sizeof(Entry*));
  if (!tables_[1].empty()) bytes += malloc_footprint(tables_[1].size() * sizeof(Entry*));
  return bytes;
}

Entry* Table::random(uint64_t (*next)(void*), void* rng) const {
  if (size_ == 0) return nullptr;
  const size_t s0 = tables_[0].size();
  const size_t s1 = tables_[1].size();
  Entry* head = nullptr;
  while (head == nullptr) {
    const size_t r = static_cast<size_t>(next(rng) % (s0 + s1));
    if (r < s0) {
      if (rehashing() && r < rehash_) continue;  // moved: empty
      head = tables_[0][r];
    } else {
      head = tables_[1][r - s0];
    }
  }
  size_t len = 0;
  for (Entry* e = head; e != nullptr; e = e->next)
    ++len;
  size_t pick = static_cast<size_t>(next(rng) % len);
  Entry* e = head;
  while (pick-- > 0)
    e = e->next;
  return e;
}

}  // namespace cairn::cache
