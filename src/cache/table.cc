// Table implementation (see table.h for the thread-safety rule and invariants).
#include "cache/table.h"

#include <xxhash.h>
#include <cstring>

#include "common/result.h"

namespace cairn::cache {

uint64_t hash_key(std::string_view key) {
  return XXH3_64bits(key.data(), key.size());
}

Table::Table() : buckets_(kMinBuckets, nullptr), mask_(kMinBuckets - 1) {}

Entry* Table::find(std::string_view key, uint64_t hash) const {
  for (Entry* e = buckets_[hash & mask_]; e != nullptr; e = e->next) {
    if (e->key_len() == key.size() && std::memcmp(e->key_data(), key.data(), key.size()) == 0)
      return e;
  }
  return nullptr;
}

void Table::insert(Entry* e, uint64_t hash) {
  Entry*& head = buckets_[hash & mask_];
  e->next = head;
  head = e;
  ++size_;
  if (size_ > buckets_.size()) resize(buckets_.size() * 2);
}

void Table::unlink(const Entry* e, uint64_t hash) {
  Entry** link = &buckets_[hash & mask_];
  while (*link != e) {
    CAIRN_CHECK(*link != nullptr);
    link = &(*link)->next;
  }
  *link = e->next;
  --size_;
}

void Table::replace(const Entry* old, Entry* fresh, uint64_t hash) {
  Entry** link = &buckets_[hash & mask_];
  while (*link != old) {
    CAIRN_CHECK(*link != nullptr);
    link = &(*link)->next;
  }
  fresh->next = old->next;
  *link = fresh;
}

void Table::maybe_shrink() {
  size_t target = buckets_.size();
  while (target > kMinBuckets && size_ < target / 8)
    target /= 2;
  // Shrink to twice the size needed so that a few inserts do not grow it straight back.
  if (target < buckets_.size()) resize(target * 2 > buckets_.size() ? buckets_.size() : target * 2);
}

void Table::resize(size_t buckets) {
  if (buckets == buckets_.size()) return;
  std::vector<Entry*> fresh(buckets, nullptr);
  const size_t mask = buckets - 1;
  for (Entry* head : buckets_) {
    Entry* e = head;
    while (e != nullptr) {
      Entry* next = e->next;
      Entry*& slot = fresh[hash_key(e->key()) & mask];
      e->next = slot;
      slot = e;
      e = next;
    }
  }
  buckets_.swap(fresh);
  mask_ = mask;
}

size_t Table::memory() const {
  return malloc_footprint(buckets_.size() * sizeof(Entry*));
}

Entry* Table::random(uint64_t (*next)(void*), void* rng) const {
  if (size_ == 0) return nullptr;
  Entry* head = nullptr;
  while (head == nullptr)
    head = buckets_[next(rng) & mask_];
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
