#include "node/address_book.h"

#include <fmt/format.h>

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
