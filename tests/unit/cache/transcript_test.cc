// Golden transcripts: each file in testdata/ is a script of commands in a Redis-like syntax, each
// followed by the engine's reply on a "> " line. The test replays the commands on a fresh engine
// and compares the whole transcript; CAIRN_REWRITE=1 rewrites the files instead, and review then
// happens on the diff (etcd-raft's datadriven tests are the model).
//
// Syntax: "@<ms>" sets the time stamped on later writes; "#" starts a comment; tokens are
// separated by spaces, and "" stands for the empty string. Writes: SET k v [NX|XX] [GET] [PX n|PXAT
// n|KEEPTTL], DEL k.., FLUSHDB, PEXPIRE k n [NX|XX|GT|LT], PEXPIREAT k n [..], PERSIST k, INCRBY k
// n, INCRBYFLOAT k x, APPEND k v, SETRANGE k off v, GETDEL k, GETEX k [PX n|PXAT n|PERSIST], CAS k
// old new [PX n| KEEPTTL], TICK. Reads: GET k, EXISTS k.., PTTL k, PEXPIRETIME k, STRLEN k,
// GETRANGE k a b, DBSIZE, KEYS pattern (sorted), STATS (keys expirations evictions).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "test_util.h"

namespace cairn::cache {
namespace {

std::string format(const Reply& r) {
  struct V {
    std::string operator()(const Ok&) const { return "OK"; }
    std::string operator()(const Nil&) const { return "(nil)"; }
    std::string operator()(int64_t v) const { return "(integer) " + std::to_string(v); }
    std::string operator()(const Bytes& b) const {
      std::string out = "\"";
      for (char c : b) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", u);
          out += buf;
        } else {
          out += c;
        }
      }
      return out + "\"";
    }
    std::string operator()(const Error& e) const { return "(error) " + e.message; }
    std::string operator()(const Array& a) const {  // redis-cli's numbered lines, one per item
      std::string out;
      for (size_t i = 0; i < a.items.size(); ++i) {
        if (i > 0) out += "\n> ";
        out += std::to_string(i + 1) + ") " +
               std::visit([this](const auto& item) { return (*this)(item); }, a.items[i]);
      }
      return a.items.empty() ? "(empty array)" : out;
    }
  };
  return std::visit(V{}, r);
}

int64_t num(const std::string& s) {
  return std::strtoll(s.c_str(), nullptr, 10);
}
std::string upper(std::string s) {
  for (char& c : s)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// Parses the options after a write's fixed arguments into an Expiry (and flags for SET).
Expiry parse_expiry(const std::vector<std::string>& t, size_t from, Expiry dflt,
                    PutCondition* cond = nullptr, bool* get = nullptr) {
  Expiry x = dflt;
  for (size_t i = from; i < t.size(); ++i) {
    std::string o = upper(t[i]);
    if (o == "PX" && i + 1 < t.size())
      x = Expiry::relative(num(t[++i]));
    else if (o == "PXAT" && i + 1 < t.size())
      x = Expiry::absolute(num(t[++i]));
    else if (o == "KEEPTTL")
      x = Expiry::keep();
    else if (o == "PERSIST")
      x = Expiry::persist();
    else if (o == "NX" && cond != nullptr)
      *cond = PutCondition::kIfAbsent;
    else if (o == "XX" && cond != nullptr)
      *cond = PutCondition::kIfPresent;
    else if (o == "GET" && get != nullptr)
      *get = true;
  }
  return x;
}

ExpireCondition parse_condition(const std::vector<std::string>& t, size_t at) {
  if (t.size() <= at) return ExpireCondition::kAlways;
  std::string o = upper(t[at]);
  if (o == "NX") return ExpireCondition::kNx;
  if (o == "XX") return ExpireCondition::kXx;
  if (o == "GT") return ExpireCondition::kGt;
  if (o == "LT") return ExpireCondition::kLt;
  return ExpireCondition::kAlways;
}

std::optional<Command> parse_write(const std::vector<std::string>& t) {
  const std::string op = upper(t[0]);
  auto arg = [&](size_t i) { return i < t.size() ? t[i] : std::string(); };
  if (op == "SET") {
    Put p = testing::put(arg(1), arg(2));
    p.expiry = parse_expiry(t, 3, Expiry::none(), &p.condition, &p.get_old);
    return p;
  }
  if (op == "DEL") return Delete{{t.begin() + 1, t.end()}};
  if (op == "FLUSHDB") return Clear{};
  if (op == "PEXPIRE") return Expire{arg(1), Expiry::relative(num(arg(2))), parse_condition(t, 3)};
  if (op == "PEXPIREAT")
    return Expire{arg(1), Expiry::absolute(num(arg(2))), parse_condition(t, 3)};
  if (op == "PERSIST") return Persist{arg(1)};
  if (op == "INCRBY") return IncrBy{arg(1), num(arg(2))};
  if (op == "INCRBYFLOAT") return IncrByFloat{arg(1), arg(2)};
  if (op == "APPEND") return Append{arg(1), arg(2)};
  if (op == "SETRANGE") return SetRange{arg(1), num(arg(2)), arg(3)};
  if (op == "GETDEL") return GetDel{arg(1)};
  if (op == "GETEX") return GetEx{arg(1), parse_expiry(t, 2, Expiry::keep())};
  if (op == "CAS") return CompareAndSet{arg(1), arg(2), arg(3), parse_expiry(t, 4, Expiry::none())};
  if (op == "TICK") return Tick{};
  return std::nullopt;
}

std::string run_read(const Engine& e, const std::vector<std::string>& t) {
  const std::string op = upper(t[0]);
  auto arg = [&](size_t i) { return i < t.size() ? t[i] : std::string(); };
  if (op == "GET") {
    auto v = e.get(arg(1));
    return v ? format(Bytes(*v)) : format(Nil{});
  }
  if (op == "EXISTS") return format(e.exists({t.begin() + 1, t.end()}));
  if (op == "PTTL") return format(e.pttl(arg(1)));
  if (op == "PEXPIRETIME") return format(e.pexpiretime(arg(1)));
  if (op == "STRLEN") return format(e.strlen(arg(1)));
  if (op == "GETRANGE") return format(e.getrange(arg(1), num(arg(2)), num(arg(3))));
  if (op == "DBSIZE") return format(static_cast<int64_t>(e.dbsize()));
  if (op == "KEYS") {
    auto keys = e.keys(arg(1));
    std::sort(keys.begin(), keys.end());
    std::string out = "[";
    for (size_t i = 0; i < keys.size(); ++i)
      out += (i > 0 ? " " : "") + keys[i];
    return out + "]";
  }
  if (op == "STATS") {
    Stats s = e.stats();
    return "keys=" + std::to_string(s.keys) + " expirations=" + std::to_string(s.expirations) +
           " evictions=" + std::to_string(s.evictions) + " clock=" + std::to_string(s.clock_ms);
  }
  return "(unknown command " + t[0] + ")";
}

// Replays a transcript's inputs and returns the transcript the engine produces.
std::string replay(const std::string& text) {
  Engine engine;
  int64_t now = 0;
  std::istringstream in(text);
  std::string out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("> ", 0) == 0) continue;  // an expected reply: regenerated below
    out += line + "\n";
    if (line.empty() || line[0] == '#') continue;
    if (line[0] == '@') {
      now = num(line.substr(1));
      continue;
    }
    std::vector<std::string> t;
    std::istringstream words(line);
    for (std::string w; words >> w;)
      t.push_back(w == "\"\"" ? std::string() : w);  // "" is empty
    if (auto cmd = parse_write(t)) {
      out += "> " + format(engine.apply(*cmd, now)) + "\n";
    } else {
      out += "> " + run_read(engine, t) + "\n";
    }
    engine.check_invariants();
  }
  return out;
}

TEST(Transcript, EveryFileReplaysExactly) {
  const std::filesystem::path dir = CAIRN_CACHE_TESTDATA;
  const bool rewrite = std::getenv("CAIRN_REWRITE") != nullptr;
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".txt") continue;
    ++files;
    std::ifstream f(entry.path());
    std::stringstream buf;
    buf << f.rdbuf();
    const std::string expected = buf.str();
    const std::string actual = replay(expected);
    if (rewrite) {
      std::ofstream(entry.path()) << actual;
      continue;
    }
    EXPECT_EQ(actual, expected) << entry.path() << " differs (CAIRN_REWRITE=1 regenerates it)";
  }
  EXPECT_GT(files, 0);
}

}  // namespace
}  // namespace cairn::cache
