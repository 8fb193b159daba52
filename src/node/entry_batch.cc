#include "node/entry_batch.h"

#include <fmt/format.h>

#include "cache/codec.h"

namespace cairn::node {
namespace {

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

bool take_varint(std::string_view& in, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    const auto b = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

}  // namespace

BatchBuilder::BatchBuilder() : body_(kHeaderBytes, '\0') {}

void BatchBuilder::add(std::string_view encoded_command) {
  put_varint(body_, encoded_command.size());
  body_.append(encoded_command);
  ++count_;
}

size_t BatchBuilder::add_stamped(std::string_view entry, int64_t time_ms, size_t max_bytes) {
  CAIRN_CHECK(entry.size() >= cache::kEntryMinBytes);  // execute_on_node refuses shorter ones
  if (entry.size() > max_bytes) return entry.size();
  add(entry);
  cache::stamp_entry_time(body_.data() + body_.size() - entry.size(), time_ms);
  return entry.size();
}

std::string BatchBuilder::finish() {
  body_[0] = kBatchMarker;
  uint64_t v = count_;
  for (size_t i = 1; i < kHeaderBytes; ++i) {
    const bool last = i + 1 == kHeaderBytes;
    body_[i] = static_cast<char>((v & 0x7f) | (last ? 0 : 0x80));
    v >>= 7;
  }
  std::string out = std::move(body_);
  body_.assign(kHeaderBytes, '\0');
  count_ = 0;
  return out;
}

bool is_batch(std::string_view entry_data) {
  return !entry_data.empty() && entry_data.front() == kBatchMarker;
}

Result<std::vector<std::string_view>, std::string> decode_batch(std::string_view in) {
  if (!is_batch(in)) return Err{std::string("batch entry: missing marker")};
  in.remove_prefix(1);
  uint64_t count = 0;
  if (!take_varint(in, count)) return Err{std::string("batch entry: truncated count")};
  // Every command takes at least two bytes: refuse a count the input cannot hold.
  if (count > in.size() / 2)
    return Err{fmt::format("batch entry: count {} exceeds the {} bytes left", count, in.size())};
  std::vector<std::string_view> out;
  out.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t len = 0;
    if (!take_varint(in, len) || len > in.size())
      return Err{fmt::format("batch entry: command {} of {} is truncated", i, count)};
    out.push_back(in.substr(0, len));
    in.remove_prefix(len);
  }
  if (!in.empty()) return Err{fmt::format("batch entry: {} trailing bytes", in.size())};
  return out;
}

std::string encode_fragment(uint64_t first, uint64_t total, uint64_t offset,
                            std::string_view bytes) {
  std::string out;
  out.reserve(1 + 3 * 10 + bytes.size());
  out.push_back(kFragmentMarker);
  put_varint(out, first);
  put_varint(out, total);
  put_varint(out, offset);
  out.append(bytes);
  return out;
}

bool is_fragment(std::string_view entry_data) {
  return !entry_data.empty() && entry_data.front() == kFragmentMarker;
}

Result<Fragment, std::string> decode_fragment(std::string_view in) {
  if (!is_fragment(in)) return Err{std::string("fragment entry: missing marker")};
  in.remove_prefix(1);
  Fragment f;
  if (!take_varint(in, f.first) || !take_varint(in, f.total) || !take_varint(in, f.offset))
    return Err{std::string("fragment entry: truncated header")};
  f.bytes = in;
  if (f.abort() ? (f.offset != 0 || !in.empty())
                : (f.offset > f.total || in.size() > f.total - f.offset))
    return Err{fmt::format("fragment entry: {} bytes at offset {} do not fit a write of {}",
                           in.size(), f.offset, f.total)};
  return f;
}

}  // namespace cairn::node
