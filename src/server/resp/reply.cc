// ReplyWriter: see reply.h. Numbers are formatted with std::to_chars (no locale, no allocation);
// each reply is appended with at most a couple of append calls.
// Threading: a writer touches only the buffer it was given; one thread per buffer.
#include "server/resp/reply.h"

#include <charconv>
#include <cmath>

namespace cairn::server::resp {

namespace {

// Enough for ":-9223372036854775808\r\n" and for "%.17g" of any double.
constexpr size_t kNumberRoom = 40;

}  // namespace

void ReplyWriter::header(char type, uint64_t n) {
  char buf[kNumberRoom];
  buf[0] = type;
  char* end = std::to_chars(buf + 1, buf + sizeof(buf), n).ptr;
  *end++ = '\r';
  *end++ = '\n';
  out_->append(buf, static_cast<size_t>(end - buf));
}

void ReplyWriter::line(char type, std::string_view text) {
  const size_t start = out_->size();
  out_->reserve(start + text.size() + 3);
  out_->push_back(type);
  out_->append(text);
  for (size_t i = start + 1; i < out_->size(); ++i) {
    char& c = (*out_)[i];
    if (c == '\r' || c == '\n') c = ' ';
  }
  out_->append("\r\n");
}

void ReplyWriter::simple(std::string_view text) {
  line('+', text);
}

void ReplyWriter::error(std::string_view text) {
  line('-', text);
}

void ReplyWriter::integer(int64_t value) {
  char buf[kNumberRoom];
  buf[0] = ':';
  char* end = std::to_chars(buf + 1, buf + sizeof(buf), value).ptr;
  *end++ = '\r';
  *end++ = '\n';
  out_->append(buf, static_cast<size_t>(end - buf));
}

void ReplyWriter::bulk(std::string_view data) {
  header('$', data.size());
  out_->append(data);
  out_->append("\r\n");
}

void ReplyWriter::null() {
  out_->append(protocol_ == Protocol::kResp3 ? "_\r\n" : "$-1\r\n");
}

void ReplyWriter::null_array() {
  out_->append(protocol_ == Protocol::kResp3 ? "_\r\n" : "*-1\r\n");
}

void ReplyWriter::array(size_t n) {
  header('*', n);
}

void ReplyWriter::map(size_t pairs) {
  if (protocol_ == Protocol::kResp3) {
    header('%', pairs);
  } else {
    header('*', uint64_t{2} * pairs);
  }
}

void ReplyWriter::set(size_t n) {
  header(protocol_ == Protocol::kResp3 ? '~' : '*', n);
}

void ReplyWriter::push(size_t n) {
  header(protocol_ == Protocol::kResp3 ? '>' : '*', n);
}

// addReplyDouble in Redis 7.0: "%.17g" (to_chars with precision 17 in general format is the same
// text), with infinities spelled out because libcs disagree on them. NaN prints as "nan" or "-nan"
// like glibc's printf; no command of ours produces one.
void ReplyWriter::real(double value) {
  char num[kNumberRoom];
  size_t len = 0;
  if (std::isinf(value)) {
    const std::string_view text = value > 0 ? "inf" : "-inf";
    text.copy(num, text.size());
    len = text.size();
  } else {
    len = static_cast<size_t>(
        std::to_chars(num, num + sizeof(num), value, std::chars_format::general, 17).ptr - num);
  }
  const std::string_view text(num, len);
  if (protocol_ == Protocol::kResp3) {
    out_->push_back(',');
    out_->append(text);
    out_->append("\r\n");
  } else {
    bulk(text);
  }
}

void ReplyWriter::boolean(bool value) {
  if (protocol_ == Protocol::kResp3) {
    out_->append(value ? "#t\r\n" : "#f\r\n");
  } else {
    out_->append(value ? ":1\r\n" : ":0\r\n");
  }
}

void ReplyWriter::verbatim(std::string_view text, std::string_view format) {
  if (protocol_ == Protocol::kResp2) {
    bulk(text);
    return;
  }
  header('=', uint64_t{text.size()} + 4);
  // addReplyVerbatim: exactly three format characters, padded with spaces.
  for (size_t i = 0; i < 3; ++i)
    out_->push_back(i < format.size() ? format[i] : ' ');
  out_->push_back(':');
  out_->append(text);
  out_->append("\r\n");
}

void ReplyWriter::big_number(std::string_view digits) {
  if (protocol_ == Protocol::kResp2) {
    bulk(digits);
    return;
  }
  line('(', digits);
}

}  // namespace cairn::server::resp
