// Reply writer: appends RESP replies to a std::string, in RESP2 or RESP3 as the connection has
// chosen (HELLO 2 / HELLO 3). Types RESP2 lacks are written the way redis-server 7.0 writes them
// to a RESP2 client, so one command implementation serves both:
//
//   reply          RESP3                 RESP2
//   null           _\r\n                 $-1\r\n
//   null array     _\r\n                 *-1\r\n
//   map of n       %n\r\n                *2n\r\n        (keys and values alternate)
//   set of n       ~n\r\n                *n\r\n
//   push of n      >n\r\n                *n\r\n
//   double         ,1.5\r\n              $3\r\n1.5\r\n  (%.17g, "inf" / "-inf")
//   boolean        #t\r\n / #f\r\n       :1\r\n / :0\r\n
//   verbatim       =8\r\ntxt:abcd\r\n    $4\r\nabcd\r\n
//   big number     (123\r\n              $3\r\n123\r\n
//
// Aggregates are written as a header followed by their elements: array(2) then two replies.
// Threading: a ReplyWriter borrows one connection's output buffer; one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace cairn::server::resp {

enum class Protocol : uint8_t { kResp2 = 2, kResp3 = 3 };

class ReplyWriter {
 public:
  explicit ReplyWriter(std::string& out, Protocol protocol = Protocol::kResp2)
      : out_(&out), protocol_(protocol) {}

  Protocol protocol() const { return protocol_; }
  void set_protocol(Protocol protocol) { protocol_ = protocol; }
  std::string& buffer() { return *out_; }

  // +text. CR and LF would break the framing, so they are written as spaces.
  void simple(std::string_view text);
  void ok() { out_->append("+OK\r\n"); }
  // -text, where text starts with the error code: error("ERR value is not an integer or out of
  // range"), error("WRONGTYPE Operation against a key holding the wrong kind of value"). CR and LF
  // are written as spaces, as Redis does for errors built from user input.
  void error(std::string_view text);
  void integer(int64_t value);
  void bulk(std::string_view data);
  void null();
  void null_array();
  void array(size_t n);
  void map(size_t pairs);
  void set(size_t n);
  void push(size_t n);
  void real(double value);
  void boolean(bool value);
  // `format` is the three-letter type, "txt" or "mkd"; shorter ones are padded with spaces.
  void verbatim(std::string_view text, std::string_view format = "txt");
  // `digits` is a decimal integer of any size, e.g. "3492890328409238509324850943850943825024385".
  void big_number(std::string_view digits);

 private:
  void header(char type, uint64_t n);
  void line(char type, std::string_view text);

  std::string* out_;
  Protocol protocol_;
};

}  // namespace cairn::server::resp
