// Client buffer limits and CONFIG SET; see resp_limits.h. Parsing follows redis-server 7.0.15
// (memtoull, updateClientOutputBufferLimit, configSetCommand) byte for byte in what it accepts
// and the error texts it gives, checked against a live server.
#include "server/resp_limits.h"
#include "server/ascii.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <vector>

namespace cairn::server {
namespace {

std::optional<ClientClass> class_by_name(std::string_view name) {
  if (iequals(name, "normal")) return ClientClass::kNormal;
  if (iequals(name, "slave") || iequals(name, "replica")) return ClientClass::kSlave;
  if (iequals(name, "pubsub")) return ClientClass::kPubsub;
  return std::nullopt;  // "master" too: Redis has no limit for it
}

// Redis splits a multi-word config value with sdssplitlen(value, " "): on every single space, so
// two spaces make an empty word and "" has no words at all.
std::vector<std::string_view> split_spaces(std::string_view s) {
  std::vector<std::string_view> words;
  if (s.empty()) return words;
  size_t start = 0;
  for (;;) {
    const size_t sp = s.find(' ', start);
    if (sp == std::string_view::npos) {
      words.push_back(s.substr(start));
      return words;
    }
    words.push_back(s.substr(start, sp - start));
    start = sp + 1;
  }
}

// strtoll(s, &end, 10) with *end == '\0' required, the result truncated to int as Redis keeps it.
std::optional<int64_t> parse_soft_seconds(std::string_view s) {
  const std::string text(s);
  if (text.find('\0') != std::string::npos) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (*end != '\0') return std::nullopt;
  const auto as_int = static_cast<int32_t>(static_cast<uint64_t>(v));
  if (as_int < 0) return std::nullopt;
  return as_int;
}

constexpr std::string_view kSettable[] = {"client-output-buffer-limit",
                                          "client-query-buffer-limit"};

std::string set_failed(std::string_view name, std::string_view why) {
  return "ERR CONFIG SET failed (possibly related to argument '" + std::string(name) + "') - " +
         std::string(why);
}

}  // namespace

std::optional<uint64_t> parse_memory(std::string_view s) {
  if (!s.empty() && s[0] == '-') return std::nullopt;
  size_t digits = 0;
  while (digits < s.size() && std::isdigit(static_cast<unsigned char>(s[digits])))
    ++digits;
  const std::string_view unit = s.substr(digits);
  uint64_t mul = 0;
  if (unit.empty() || iequals(unit, "b"))
    mul = 1;
  else if (iequals(unit, "k"))
    mul = 1000;
  else if (iequals(unit, "kb"))
    mul = 1024;
  else if (iequals(unit, "m"))
    mul = 1000 * 1000;
  else if (iequals(unit, "mb"))
    mul = 1024 * 1024;
  else if (iequals(unit, "g"))
    mul = 1000ull * 1000 * 1000;
  else if (iequals(unit, "gb"))
    mul = 1024ull * 1024 * 1024;
  else
    return std::nullopt;
  if (digits >= 128) return std::nullopt;  // Redis copies the digits into a 128-byte buffer
  uint64_t v = 0;
  for (size_t i = 0; i < digits; ++i) {
    const uint64_t d = static_cast<uint64_t>(s[i] - '0');
    if (v > (UINT64_MAX - d) / 10) {
      v = UINT64_MAX;  // strtoull saturates
      break;
    }
    v = v * 10 + d;
  }
  return v * mul;  // wraps on overflow, as in Redis
}

std::string format_output_limits(const OutputBufferLimits& limits) {
  static constexpr std::string_view kNames[] = {"normal", "slave", "pubsub"};
  std::string out;
  for (size_t i = 0; i < limits.size(); ++i) {
    if (i > 0) out += ' ';
    out += kNames[i];
    out += ' ' + std::to_string(limits[i].hard) + ' ' + std::to_string(limits[i].soft) + ' ' +
           std::to_string(limits[i].soft_seconds);
  }
  return out;
}

std::string parse_output_limits(std::string_view value, OutputBufferLimits& limits) {
  const auto words = split_spaces(value);
  if (words.size() % 4 != 0) return "Wrong number of arguments in buffer limit configuration.";
  OutputBufferLimits next = limits;
  for (size_t j = 0; j < words.size(); j += 4) {
    const auto cls = class_by_name(words[j]);
    if (!cls) return "Invalid client class specified in buffer limit configuration.";
    const auto hard = parse_memory(words[j + 1]);
    const auto soft = parse_memory(words[j + 2]);
    const auto seconds = parse_soft_seconds(words[j + 3]);
    if (!hard || !soft || !seconds)
      return "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
    next[static_cast<size_t>(*cls)] = OutputBufferLimit{*hard, *soft, *seconds};
  }
  limits = next;
  return {};
}

ClientLimits::ClientLimits(uint64_t query_buffer_limit, const OutputBufferLimits& output)
    : query_(query_buffer_limit) {
  set_output(output);
}

OutputBufferLimit ClientLimits::output(ClientClass c) const {
  const Atomic& a = output_[static_cast<size_t>(c)];
  return {a.hard.load(std::memory_order_relaxed), a.soft.load(std::memory_order_relaxed),
          a.seconds.load(std::memory_order_relaxed)};
}

OutputBufferLimits ClientLimits::output_all() const {
  return {output(ClientClass::kNormal), output(ClientClass::kSlave), output(ClientClass::kPubsub)};
}

void ClientLimits::set_output(const OutputBufferLimits& limits) {
  for (size_t i = 0; i < limits.size(); ++i) {
    output_[i].hard.store(limits[i].hard, std::memory_order_relaxed);
    output_[i].soft.store(limits[i].soft, std::memory_order_relaxed);
    output_[i].seconds.store(limits[i].soft_seconds, std::memory_order_relaxed);
  }
}

std::string config_set(std::span<const std::string_view> argv, ClientLimits& limits,
                       std::span<const std::string> fixed) {
  // argv: CONFIG SET name value [name value ...]; the command table has checked arity -4.
  if (argv.size() % 2 != 0) return "ERR syntax error";
  const size_t pairs = (argv.size() - 2) / 2;
  // First every name, as Redis: an unknown one wins, else the last immutable or duplicate.
  std::vector<int> which(pairs, -1);
  std::string_view unknown, err_name, err_text;
  for (size_t i = 0; i < pairs; ++i) {
    const std::string_view name = argv[2 + 2 * i];
    for (size_t k = 0; k < std::size(kSettable); ++k)
      if (iequals(name, kSettable[k])) which[i] = static_cast<int>(k);
    if (which[i] < 0) {
      bool known = false;
      for (const auto& f : fixed)
        known = known || iequals(name, f);
      if (!known) {
        if (unknown.empty()) unknown = name;
        continue;
      }
      err_name = name;
      err_text = "can't set immutable config";
      continue;
    }
    for (size_t j = 0; j < i; ++j) {
      if (which[j] == which[i]) {
        err_name = name;
        err_text = "duplicate parameter";
        break;
      }
    }
  }
  if (!unknown.empty())
    return "ERR Unknown option or number of arguments for CONFIG SET - '" + std::string(unknown) +
           "'";
  if (!err_text.empty()) return set_failed(err_name, err_text);
  // Then every value, into copies: the first bad one sets nothing.
  uint64_t query = limits.query_buffer_limit();
  OutputBufferLimits output = limits.output_all();
  for (size_t i = 0; i < pairs; ++i) {
    const std::string_view name = argv[2 + 2 * i], value = argv[3 + 2 * i];
    if (which[i] == 0) {
      std::string e = parse_output_limits(value, output);
      if (!e.empty()) return set_failed(name, e);
      continue;
    }
    const auto v = parse_memory(value);
    if (!v) return set_failed(name, "argument must be a memory value");
    // Redis compares the value as a long long: anything above LLONG_MAX is negative to it.
    if (*v < kMinQueryBufferLimit || *v > static_cast<uint64_t>(INT64_MAX))
      return set_failed(name, "argument must be between 1048576 and 9223372036854775807 inclusive");
    query = *v;
  }
  limits.set_query_buffer_limit(query);
  limits.set_output(output);
  return {};
}

}  // namespace cairn::server
