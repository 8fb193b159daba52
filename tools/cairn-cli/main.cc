// cairn-cli: data and cluster administration over the native protocol.
//
// Exit codes: 0 success; 1 the server or network failed the request, or the answer is "no"
// (get of a missing key, cas that did not set); 2 bad usage. Values are printed raw (binary-safe)
// with a trailing newline; errors go to stderr.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <functional>
#include <iostream>

#include "client/client.h"
#include "client/duration.h"
#include "common/version.h"
#include "status_format.h"

namespace {

using cairn::client::Client;
using cairn::client::Error;
namespace client = cairn::client;

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

void print_raw(const std::string& bytes) {
  std::fwrite(bytes.data(), 1, bytes.size(), stdout);
  std::fputc('\n', stdout);
}

int fail(const Error& e) {
  std::cerr << "cairn-cli: " << e.to_string() << "\n";
  return kExitFailed;
}

// Prints the result of a call that returns a value, or its error.
template <typename T, typename Print>
int report(const client::Result<T>& r, Print print) {
  if (!r.ok()) return fail(r.error());
  return print(*r);
}

int report(const client::Status& st) {
  if (!st.ok()) return fail(st.error());
  std::puts("OK");
  return kExitOk;
}

// What the chosen subcommand does once the client exists.
using Action = std::function<int(Client&)>;

struct Args {
  std::string key, value, expected, addr, ttl, action;
  std::vector<std::string> keys;
  int64_t by = 1;
  uint64_t id = 0;
  bool stale = false, json = false;
};

// Parses a --ttl; nullopt when none was given. Throws CLI::ValidationError on bad input.
client::Ttl ttl_flag(const std::string& text) {
  if (text.empty()) return std::nullopt;
  auto d = client::parse_duration(text);
  if (!d.ok()) throw CLI::ValidationError("--ttl", d.error().message());
  if (d->count() == 0) throw CLI::ValidationError("--ttl", "must be more than 0");
  return *d;
}

void add_data_commands(CLI::App& app, Args& a, Action& action) {
  auto* get = app.add_subcommand("get", "print a key's value (exit 1 when missing)");
  get->add_flag("--stale", a.stale, "read the answering node's state at once (may be stale)");
  get->add_option("KEY", a.key)->required();
  get->callback([&] {
    action = [&](Client& c) {
      return report(c.get(a.key, a.stale), [&](const std::optional<std::string>& v) {
        if (!v) {
          std::cerr << "cairn-cli: no such key\n";
          return kExitFailed;
        }
        print_raw(*v);
        return kExitOk;
      });
    };
  });

  auto* set = app.add_subcommand("set", "set a key's value");
  set->add_option("KEY", a.key)->required();
  set->add_option("VALUE", a.value)->required();
  set->add_option("--ttl", a.ttl, "expire after this long: 500ms, 10s, 5m, 1h or milliseconds");
  set->callback([&] {
    auto ttl = ttl_flag(a.ttl);
    action = [&, ttl](Client& c) { return report(c.set(a.key, a.value, ttl)); };
  });

  auto* del = app.add_subcommand("del", "delete keys; prints how many existed");
  del->add_option("KEY", a.keys)->required();
  del->callback([&] {
    action = [&](Client& c) {
      int deleted = 0;
      for (const auto& k : a.keys) {
        auto r = c.del(k);
        if (!r.ok()) return fail(r.error());
        deleted += *r ? 1 : 0;
      }
      std::printf("%d\n", deleted);
      return kExitOk;
    };
  });

  auto* incr = app.add_subcommand("incr", "add to an integer value; prints the result");
  incr->add_option("KEY", a.key)->required();
  incr->add_option("--by", a.by, "amount to add (may be negative)");
  incr->callback([&] {
    action = [&](Client& c) {
      return report(c.incr(a.key, a.by), [](int64_t v) {
        std::printf("%lld\n", static_cast<long long>(v));
        return kExitOk;
      });
    };
  });

  auto* cas = app.add_subcommand(
      "cas", "set KEY to NEW only if it holds EXPECTED; prints 1 (set) or 0 (exit 1)");
  cas->add_option("KEY", a.key)->required();
  cas->add_option("EXPECTED", a.expected)->required();
  cas->add_option("NEW", a.value)->required();
  cas->add_option("--ttl", a.ttl, "expiry of the new value");
  cas->callback([&] {
    auto ttl = ttl_flag(a.ttl);
    action = [&, ttl](Client& c) {
      return report(c.cas(a.key, a.expected, a.value, ttl), [](bool was_set) {
        std::puts(was_set ? "1" : "0");
        return was_set ? kExitOk : kExitFailed;
      });
    };
  });

  auto* ttl_cmd = app.add_subcommand("ttl", "milliseconds left; -1 no expiry, -2 no such key");
  ttl_cmd->add_option("KEY", a.key)->required();
  ttl_cmd->callback([&] {
    action = [&](Client& c) {
      return report(c.ttl(a.key), [](int64_t v) {
        std::printf("%lld\n", static_cast<long long>(v));
        return kExitOk;
      });
    };
  });

  auto* expire = app.add_subcommand("expire", "set a key's expiry; prints 1, or 0 if no key");
  expire->add_option("KEY", a.key)->required();
  expire->add_option("TTL", a.ttl, "500ms, 10s, 5m, 1h or milliseconds")->required();
  expire->callback([&] {
    auto ttl = ttl_flag(a.ttl);
    action = [&, ttl](Client& c) {
      return report(c.expire(a.key, *ttl), [](bool done) {
        std::puts(done ? "1" : "0");
        return kExitOk;
      });
    };
  });
}

int print_status(Client& c, bool json) {
  return report(c.status(), [&](const cairn::net::StatusResponse& s) {
    std::fputs((json ? cairn::cli::status_json(s) : cairn::cli::status_text(s)).c_str(), stdout);
    return kExitOk;
  });
}

void add_cluster_commands(CLI::App& app, Args& a, Action& action) {
  auto* status = app.add_subcommand("status", "the node's role, term, indexes and members");
  status->add_flag("--json", a.json, "one JSON object");
  status->callback([&] { action = [&](Client& c) { return print_status(c, a.json); }; });

  auto* members = app.add_subcommand("members", "list, add or remove cluster members");
  members->require_subcommand(1);
  auto* list = members->add_subcommand("list", "ID ADDR voter|learner [leader], one a line");
  list->callback([&] {
    action = [&](Client& c) {
      return report(c.status(), [](const cairn::net::StatusResponse& s) {
        std::fputs(cairn::cli::members_text(s).c_str(), stdout);
        return kExitOk;
      });
    };
  });
  auto* add = members->add_subcommand("add", "add a node (as a learner, promoted once caught up)");
  add->add_option("ID", a.id)->required()->check(CLI::Range(uint64_t{1}, UINT64_MAX));
  add->add_option("ADDR", a.addr, "its HOST:PORT")->required();
  add->callback([&] { action = [&](Client& c) { return report(c.add_node(a.id, a.addr)); }; });
  auto* remove = members->add_subcommand("remove", "remove a node");
  remove->add_option("ID", a.id)->required()->check(CLI::Range(uint64_t{1}, UINT64_MAX));
  remove->callback([&] { action = [&](Client& c) { return report(c.remove_node(a.id)); }; });

  auto* transfer = app.add_subcommand("transfer-leader", "make node ID the leader");
  transfer->add_option("ID", a.id)->required()->check(CLI::Range(uint64_t{1}, UINT64_MAX));
  transfer->callback([&] { action = [&](Client& c) { return report(c.transfer_leader(a.id)); }; });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"cairn-cli: the command-line client of a cairn cluster", "cairn-cli"};
  app.set_version_flag("--version", std::string(cairn::kVersion));
  app.footer(
      "Each command has its own --help (e.g. cairn-cli set --help). Values are printed raw, one a "
      "line; errors go to stderr.\n"
      "Exit status: 0 success; 1 the server or network failed the request, or the answer is no "
      "(get of a missing key, cas that did not set); 2 bad usage.\n");
  std::string addr = "127.0.0.1:9000";
  std::string timeout = "5s";
  app.add_option("--addr", addr, "node(s) to ask, HOST:PORT[,HOST:PORT...]")->capture_default_str();
  app.add_option("--timeout", timeout, "per command, retries included: 500ms, 10s...")
      ->capture_default_str();
  bool no_session = false;
  app.add_flag("--no-session", no_session,
               "send writes outside a client session: one round trip less, but a write whose "
               "outcome is unknown (a lost answer) is then not resent");
  app.require_subcommand(1);
  Args args;
  Action action;
  add_data_commands(app, args, action);
  add_cluster_commands(app, args, action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }

  client::Options opts;
  opts.seeds.clear();
  for (size_t start = 0; start <= addr.size();) {
    size_t comma = std::min(addr.find(',', start), addr.size());
    if (comma > start) opts.seeds.push_back(addr.substr(start, comma - start));
    start = comma + 1;
  }
  auto t = client::parse_duration(timeout);
  if (!t.ok() || t->count() == 0) {
    std::cerr << "cairn-cli: --timeout: " << (t.ok() ? "must be more than 0" : t.error().message())
              << "\n";
    return kExitUsage;
  }
  opts.request_timeout = *t;
  opts.sessions = !no_session;
  opts.connect_timeout = std::min(*t, opts.connect_timeout);
  auto c = Client::create(opts);
  if (!c.ok()) {
    std::cerr << "cairn-cli: --addr: " << c.error().message() << "\n";
    return kExitUsage;
  }
  int rc = action(**c);
  std::fflush(stdout);
  return rc;
}
