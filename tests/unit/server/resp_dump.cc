// server_resp_dump: the parser's view of byte streams, for redis_diff.py to compare with a live
// redis-server. Reads one hex-encoded stream per line on stdin and prints one line per stream:
// "|C h<arg hex> h<arg hex>..." for each complete request, then "|E<error text>" if the stream hits
// a protocol error, or "|N" if it ends inside a request.
// Threading: single-threaded tool.
#include <iostream>
#include <string>

#include "server/resp/parser.h"

namespace {

std::string unhex(const std::string& h) {
  std::string s;
  for (size_t i = 0; i + 1 < h.size(); i += 2) {
    s += static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16));
  }
  return s;
}

std::string hex(std::string_view s) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const char c : s) {
    const auto b = static_cast<unsigned char>(c);
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

}  // namespace

int main() {
  using cairn::server::resp::ParseStatus;
  std::string line;
  while (std::getline(std::cin, line)) {
    cairn::server::resp::RequestParser parser;
    std::string buf = unhex(line);
    for (;;) {
      const auto r = parser.parse(buf);
      if (r.status == ParseStatus::kError) {
        std::cout << "|E" << parser.error();
        break;
      }
      if (r.status == ParseStatus::kNeedMore) {
        std::cout << "|N";
        break;
      }
      std::cout << "|C";
      for (std::string_view a : parser.args())
        std::cout << " h" << hex(a);
      buf.erase(0, r.consumed);
    }
    std::cout << "\n";
  }
  return 0;
}
