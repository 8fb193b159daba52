#include "node/address_book.h"

#include <fmt/format.h>

#include <charconv>
#include <cstring>

namespace cairn::node {
namespace {

constexpr std::string_view kMagic = "CAIRNAB1";

template <typename T>
void put(std::string& out, T v) {
  char b[sizeof(T)];
  for (size_t i = 0; i < sizeof(T); ++i)
    b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out.append(b, sizeof(T));
}

template <typename T>
bool take(std::string_view& in, T& v) {
  if (in.size() < sizeof(T)) return false;
  v = 0;
  for (size_t i = 0; i < sizeof(T); ++i)
    v = static_cast<T>(v | static_cast<T>(static_cast<uint8_t>(in[i])) << (8 * i));
  in.remove_prefix(sizeof(T));
  return true;
}

}  // namespace

std::string AddressBook::to_text() const {
  std::string out;
  for (const auto& [id, addr] : addrs_) {
    if (!out.empty()) out += ',';
    out += fmt::format("{}={}", id, addr);
  }
  return out;
}

AddressBook AddressBook::from_text(std::string_view text) {
  AddressBook book;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    net::NodeId id = 0;
    auto idtext = item.substr(0, eq);
    auto [end, ec] = std::from_chars(idtext.data(), idtext.data() + idtext.size(), id);
    if (ec != std::errc() || end != idtext.data() + idtext.size() || id == 0) continue;
    book.set(id, std::string(item.substr(eq + 1)));
  }
  return book;
}

void AddressBook::encode(std::string& out) const {
  out.append(kMagic);
  put<uint32_t>(out, static_cast<uint32_t>(addrs_.size()));
  for (const auto& [id, addr] : addrs_) {
    put<uint64_t>(out, id);
    put<uint32_t>(out, static_cast<uint32_t>(addr.size()));
    out.append(addr);
  }
}

Result<AddressBook, std::string> AddressBook::decode(std::string_view& in) {
  if (in.substr(0, kMagic.size()) != kMagic)
    return Err{std::string("address book: bad magic (not a cairn node snapshot)")};
  in.remove_prefix(kMagic.size());
  uint32_t count = 0;
  if (!take(in, count)) return Err{std::string("address book: truncated count")};
  AddressBook book;
  for (uint32_t i = 0; i < count; ++i) {
    uint64_t id = 0;
    uint32_t len = 0;
    if (!take(in, id) || !take(in, len) || in.size() < len)
      return Err{fmt::format("address book: entry {} of {} is truncated", i, count)};
    book.set(id, std::string(in.substr(0, len)));
    in.remove_prefix(len);
  }
  return book;
}

}  // namespace cairn::node
