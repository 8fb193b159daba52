#include "node_world.h"

#include <stdlib.h>
#include <unistd.h>

#include <fmt/format.h>
#include <algorithm>
#include <asio/post.hpp>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <utility>

#include "node/command_mapping.h"

namespace cairn::sim {
namespace {

// A node's peers, through the world's network. Messages are handed over as they are (no encoding:
// the codecs have tests of their own), each to the entry point cairn-server's handler would call.
class SimTransport final : public net::PeerTransport {
 public:
  SimTransport(NodeWorld& world, net::NodeId self) : world_(world), self_(self) {}

  net::NetStatus add_peer(net::NodeId id, const std::string&) override {
    peers_.insert(id);
    return {};
  }
  void remove_peer(net::NodeId id) override { peers_.erase(id); }

  bool send(const eraftpb::Message& msg) override {
    if (!reachable(msg.to())) return false;
    world_.send(self_, msg.to(), true, [this_world = &world_, self = self_, msg](node::Node& n) {
      hello(*this_world, self, n);
      n.step(msg);
    });
    return true;
  }

  bool send(net::NodeId to, const net::Message& msg, net::Lane) override {
    if (!reachable(to)) return false;
    if (std::holds_alternative<net::SnapshotChunk>(msg)) world_.count_snapshot_chunk();
    world_.send(self_, to, false, [this_world = &world_, self = self_, msg](node::Node& n) {
      hello(*this_world, self, n);
      if (auto* m = std::get_if<net::ForwardRequest>(&msg))
        n.receive_forward(*m);
      else if (auto* r = std::get_if<net::ForwardReply>(&msg))
        n.receive_forward_reply(r->response);
      else if (auto* c = std::get_if<net::SnapshotChunk>(&msg))
        n.receive_snapshot_chunk(*c);
      else if (auto* a = std::get_if<net::SnapshotAck>(&msg))
        n.receive_snapshot_ack(*a);
      else
        throw std::logic_error("a node sent its peer a message no peer handles");
    });
    return true;
  }

  void shutdown() override { down_ = true; }

  // What the PeerHello opening each connection does (node_handler.cc): the receiver learns where
  // the sender takes its traffic when both are of one cluster. Emulated on every message (it
  // costs a lookup): a world has no connections, so none is ever opened again after a loss.
  static void hello(NodeWorld& world, net::NodeId from, node::Node& to) {
    if (to.has_address(from) || !world.up(from)) return;
    const std::uint64_t cluster = world.node(from).cluster_id();
    if (cluster != 0 && cluster == to.cluster_id())
      to.learn_address(from, "sim:" + std::to_string(from));
  }

 private:
  bool reachable(net::NodeId to) const { return !down_ && peers_.count(to) != 0; }

  NodeWorld& world_;
  net::NodeId self_;
  std::set<net::NodeId> peers_;
  bool down_ = false;
};

// Background work in the world: an event some milliseconds later, dropped if the handle goes first.
// The work itself goes with the handle (what it holds may point into its node, which is going).
struct PendingWork {
  std::function<void()> work;  // empty once dropped
};

class SimWork final : public node::BackgroundWork {
 public:
  explicit SimWork(std::shared_ptr<PendingWork> pending) : pending_(std::move(pending)) {}
  ~SimWork() override { pending_->work = nullptr; }

 private:
  std::shared_ptr<PendingWork> pending_;
};

}  // namespace

// A node's world: the world's time (its wall clock possibly skewed), its queue for the tick, its
// network; the task queue is run by NodeWorld.
class SimEnv final : public node::Env {
 public:
  explicit SimEnv(NodeWorld& world, net::NodeId id) : world_(world), id_(id) {}
  // Its node crashed: the ticks it scheduled find it gone.
  ~SimEnv() override { *alive_ = false; }

  Clock::time_point now() const override { return world_.now(); }
  int64_t wall_ms() const override {
    // The Unix epoch is far behind the world's origin: wall time is the world's time from a fixed
    // date (2026-01-01), so expiry times look like real ones.
    return 1'767'225'600'000 + wall_offset_ms_ +
           std::chrono::duration_cast<std::chrono::milliseconds>(world_.now().time_since_epoch())
               .count();
  }
  void skew(int64_t delta_ms) { wall_offset_ms_ += delta_ms; }
  uint64_t random() override { return world_.random(); }

  void start_ticks(Clock::duration every, std::function<void()> tick) override {
    every_ = every;
    tick_ = std::move(tick);
    ticking_ = true;
    schedule_tick(every_);
  }
  void stop_ticks() override { ticking_ = false; }

  // A snapshot build ends 0.5-20 ms of simulated time later (after a pause, if the node is paused
  // then: its threads stop with it); the node goes on meanwhile.
  std::unique_ptr<node::BackgroundWork> background(std::function<void()> work) override {
    auto pending = std::make_shared<PendingWork>(PendingWork{std::move(work)});
    run_later(std::chrono::microseconds(500 + world_.random() % 19'500), pending);
    return std::make_unique<SimWork>(std::move(pending));
  }

  std::unique_ptr<net::PeerTransport> make_transport(net::TransportConfig) override {
    return std::make_unique<SimTransport>(world_, id_);
  }

  std::unique_ptr<node::LogSync> log_syncer(node::LogSync::Synced synced,
                                            node::LogSync::Failed failed,
                                            std::function<void()> started) override;
  void request_admission(const std::string& member, net::NodeId id, const std::string& self_addr,
                         std::chrono::milliseconds timeout, Admitted done) override;
  void run() override {}   // NodeWorld runs the task queue
  void wait() override {}  // likewise: nothing to wait for here

 private:
  void run_later(Clock::duration after, std::shared_ptr<PendingWork> pending) {
    world_.schedule(after, [this, alive = alive_, pending] {
      if (!*alive || !pending->work) return;
      if (world_.paused(id_)) return run_later(world_.paused_until(id_) - world_.now(), pending);
      auto work = std::exchange(pending->work, nullptr);
      work();
    });
  }

  void schedule_tick(Clock::duration after) {
    world_.schedule(after, [this, alive = alive_] {
      if (!*alive || !ticking_) return;
      if (world_.paused(id_)) {  // a paused process does not tick: the next one comes after
        schedule_tick(world_.paused_until(id_) - world_.now());
        return;
      }
      asio::post(io_, [this] {
        if (!ticking_) return;
        tick_();
        if (ticking_) schedule_tick(every_);
      });
    });
  }

  NodeWorld& world_;
  net::NodeId id_;
  Clock::duration every_{};
  std::function<void()> tick_;
  bool ticking_ = false;
  int64_t wall_offset_ms_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

namespace {

// The log's syncer on the simulated disk: as node::LogSyncer, one sync at a time, covering every
// request made before it began; each takes a drawn time of the world (now and then a slow one, a
// disk busy with something else), does not run while its node is paused, and tells the world what
// it made durable. The sync itself is real (the files are real), and cheap on /dev/shm.
class SimLogSync final : public node::LogSync {
 public:
  SimLogSync(NodeWorld& world, net::NodeId id, Synced synced, Failed failed,
             std::function<void()> started)
      : world_(world),
        id_(id),
        synced_(std::move(synced)),
        failed_(std::move(failed)),
        started_(std::move(started)) {}
  // Its node crashed or stopped: what was not synced stays so.
  ~SimLogSync() override {
    *alive_ = false;
    for (int fd : {pending_.fd, running_.fd})
      if (fd >= 0) ::close(fd);
  }

  uint64_t request(storage::Wal::SyncTarget target) override {
    if (pending_.fd >= 0) {  // as LogSyncer: the newer request covers the one not begun
      ::close(pending_.fd);
      if (target.dir.empty()) target.dir = std::move(pending_.dir);
    }
    pending_ = std::move(target);
    ++requested_;
    if (running_.fd < 0) begin();
    return requested_;
  }

 private:
  void begin() {
    running_ = std::exchange(pending_, storage::Wal::SyncTarget{});
    ticket_ = requested_;
    if (started_) started_();
    const std::uint64_t roll = world_.random();
    const auto took = roll % 50 == 0 ? std::chrono::microseconds(20'000 + (roll >> 8) % 280'000)
                                     : std::chrono::microseconds(50 + (roll >> 8) % 1950);
    finish_after(took);
  }
  void finish_after(Clock::duration after) {
    world_.schedule(after, [this, alive = alive_] {
      if (!*alive) return;
      if (world_.paused(id_)) return finish_after(world_.paused_until(id_) - world_.now());
      const std::string path = running_.path;
      const std::uint64_t bytes = running_.bytes;
      auto st = storage::Wal::sync_target(std::exchange(running_, storage::Wal::SyncTarget{}));
      if (!st.ok()) failed_(st.error());
      world_.durable(id_, path, bytes);
      synced_(ticket_);
      if (pending_.fd >= 0) begin();
    });
  }

  NodeWorld& world_;
  net::NodeId id_;
  Synced synced_;
  Failed failed_;
  std::function<void()> started_;
  storage::Wal::SyncTarget pending_;  // requested, not begun (fd -1: none)
  storage::Wal::SyncTarget running_;  // under way (fd -1: none)
  std::uint64_t requested_ = 0;
  std::uint64_t ticket_ = 0;  // what the sync under way covers
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace

std::unique_ptr<node::LogSync> SimEnv::log_syncer(node::LogSync::Synced synced,
                                                  node::LogSync::Failed failed,
                                                  std::function<void()> started) {
  return std::make_unique<SimLogSync>(world_, id_, std::move(synced), std::move(failed),
                                      std::move(started));
}

// As over the native protocol (node/join.h): the request and its answer cross the world's
// network like any message (lost, delayed, cut), the member handles it as its handler would
// (Node::admin), and no answer within the timeout is an answer too.
void SimEnv::request_admission(const std::string& member, net::NodeId id,
                               const std::string& self_addr, std::chrono::milliseconds timeout,
                               Admitted done) {
  auto answered = std::make_shared<bool>(false);
  auto finish = [this, alive = alive_, answered,
                 done = std::move(done)](Result<std::string, std::string> answer) {
    if (!*alive || *answered) return;
    *answered = true;
    asio::post(io_, [done, answer = std::move(answer)] { done(answer); });
  };
  world_.schedule(timeout, [finish, member, timeout] {
    finish(Err{fmt::format("no answer from {} within {} ms", member, timeout.count())});
  });
  const std::string_view prefix = "sim:";
  net::NodeId to = 0;
  if (member.starts_with(prefix))
    std::from_chars(member.data() + prefix.size(), member.data() + member.size(), to);
  if (to == 0) return finish(Err{"--join " + member + ": not an address of this world"});
  NodeWorld* world = &world_;
  world_.send(id_, to, false, [world, finish, from = id_, to, id, self_addr](node::Node& n) {
    n.admin(net::AddNodeCommand{id, self_addr}, [world, finish, from, to](const node::Outcome& o) {
      const net::ClientResponse r = node::to_response(o);
      Result<std::string, std::string> answer =
          r.success
              ? Result<std::string, std::string>(r.value.value_or(""))
              : Result<std::string, std::string>(Err{r.error.value_or("refused without a reason")});
      world->send(to, from, false, [finish, answer](node::Node&) { finish(answer); });
    });
  });
}

namespace {

node::NodeConfig config_for(net::NodeId id, const WorldOptions& o, const std::string& root) {
  const int nodes = o.nodes;
  node::NodeConfig c;
  c.id = id;
  // On disk, segments of 32 KiB: rolls and releases happen every few hundred entries. In memory,
  // the directory holds term, vote and membership only.
  c.durable = o.disk;
  c.wal_segment_bytes = 32 << 10;
  c.data_dir = root + "/node-" + std::to_string(id);  // NodeWorld::dir_of
  c.listen = "sim:" + std::to_string(id);
  for (int i = 1; i <= nodes; ++i)
    c.peers[static_cast<net::NodeId>(i)] = "sim:" + std::to_string(i);
  c.tick = std::chrono::milliseconds(100);
  c.request_timeout = std::chrono::milliseconds(5000);
  // Compactions every 64 entries, 16 kept behind: a node that lags or restarts catches up from a
  // snapshot (built in the background, sent in chunks through the world's network) as often as
  // from the log.
  c.snapshot_entries = 64;
  c.log_tail_entries = 16;
  c.snapshot_chunk_bytes = 4096;
  return c;
}

// A directory for the nodes' data: in memory (/dev/shm) where there is one, as it only holds
// small files whose syncs would otherwise cost a disk's time.
std::string make_root() {
  namespace fs = std::filesystem;
  const fs::path base =
      fs::is_directory("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
  std::string tmpl = (base / "cairn-world-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr)
    throw std::runtime_error("cannot make a directory under " + base.string());
  return tmpl;
}

}  // namespace

NodeWorld::NodeWorld(WorldOptions options)
    : options_(options), rng_(options.seed * 0x2545F4914F6CDD1DULL + 7), root_(make_root()) {
  for (int i = 1; i <= options_.nodes; ++i) {
    ids_.insert(static_cast<net::NodeId>(i));
    start_node(static_cast<net::NodeId>(i));
  }
  run_tasks();
}

void NodeWorld::add_node(net::NodeId id, net::NodeId via) {
  if (ids_.count(id)) throw std::logic_error("adding a node whose id is taken");
  ids_.insert(id);
  joined_[id] = via;
  start_node(id);
}

void NodeWorld::take_away(net::NodeId id) {
  if (up(id)) crash(id);
  ids_.erase(id);
  durable_.erase(id);
  std::filesystem::remove_all(dir_of(id));
}

void NodeWorld::start_node(net::NodeId id) {
  auto env = std::make_unique<SimEnv>(*this, id);
  SimEnv* raw = env.get();
  node::NodeConfig config = config_for(id, options_, root_);
  if (auto j = joined_.find(id); j != joined_.end()) {
    // As `cairn-server --join`, restarts included: no --peers.
    config.peers.clear();
    config.join = "sim:" + std::to_string(j->second);
  }
  config.wal_synced = [this, id](const std::string& path, std::uint64_t bytes) {
    durable(id, path, bytes);
  };
  auto n = node::Node::create(config, std::move(env));
  if (!n.ok()) throw std::runtime_error("node " + std::to_string(id) + ": " + n.error());
  if (options_.disk) {
    // What the node found on its disk (after cutting any torn tail) is durable.
    auto& files = durable_[id];
    files.clear();
    for (const auto& f : std::filesystem::directory_iterator(dir_of(id) + "/wal"))
      if (f.path().extension() == ".wal") files[f.path().string()] = f.file_size();
  }
  envs_[id] = raw;
  (*n)->start();
  nodes_.emplace(id, std::move(*n));
}

void NodeWorld::crash(net::NodeId id) {
  nodes_.erase(id);  // destroyed without stopping: what waited in its queue is gone with it
  envs_.erase(id);
  ++incarnation_[id];
}

void NodeWorld::durable(net::NodeId id, const std::string& path, std::uint64_t bytes) {
  auto& d = durable_[id][path];
  d = std::max(d, bytes);
}

std::string NodeWorld::power_off(net::NodeId id) {
  namespace fs = std::filesystem;
  crash(id);
  std::vector<fs::path> segments;
  for (const auto& f : fs::directory_iterator(dir_of(id) + "/wal"))
    if (f.path().extension() == ".wal") segments.push_back(f.path());
  std::sort(segments.begin(), segments.end());
  std::string lost;
  const auto& synced = durable_[id];
  for (const auto& seg : segments) {
    auto it = synced.find(seg.string());
    if (it == synced.end()) {  // never synced: not even its name need have reached the disk
      fs::remove(seg);
      lost += fmt::format(" {} gone;", seg.filename().string());
      continue;
    }
    const std::uint64_t size = fs::file_size(seg);
    const std::uint64_t keep = it->second;
    if (size <= keep) continue;
    // Of the bytes no sync covered: none reached the disk, all did, a prefix did (the write cut
    // at any byte), or the file grew but its last sectors were never written (zeros).
    std::uint64_t cut = keep;
    std::uint64_t zero_from = 0;
    switch (rng_.below(4)) {
      case 0:
        break;
      case 1:
        cut = size;
        break;
      case 2:
        cut = keep + 1 + rng_.below(size - keep);
        break;
      default: {
        // From a sector boundary in the unsynced part (the first, now and then a later one),
        // cut past it: the sectors from there on never written.
        std::uint64_t boundary = (keep / 512 + 1) * 512;
        if (rng_.below(4) == 0) boundary += 512 * rng_.below(8);
        if (boundary >= size) boundary = (keep / 512 + 1) * 512;
        cut = keep + 1 + rng_.below(size - keep);
        if (boundary < size) {
          cut = boundary + 1 + rng_.below(size - boundary);
          zero_from = boundary;
        }
        break;
      }
    }
    fs::resize_file(seg, cut);
    if (cut > keep && (cut < size || zero_from != 0)) ++torn_tails_;
    if (zero_from != 0) {
      ++zeroed_tails_;
      std::fstream f(seg, std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(static_cast<std::streamoff>(zero_from));
      const std::string zeros(cut - zero_from, '\0');
      f.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
    }
    lost +=
        fmt::format(" {}: {} of {} unsynced bytes kept{};", seg.filename().string(), cut - keep,
                    size - keep, zero_from != 0 ? fmt::format(", zero from {}", zero_from) : "");
  }
  return lost.empty() ? "nothing unsynced" : lost;
}

void NodeWorld::lose_log(net::NodeId id) {
  if (up(id)) throw std::logic_error("a node that is up loses its log");
  std::filesystem::remove_all(dir_of(id) + "/wal");
  std::filesystem::remove_all(dir_of(id) + "/snap");
}

void NodeWorld::restart(net::NodeId id) {
  if (up(id)) throw std::logic_error("restarting a node that is up");
  start_node(id);
}

NodeWorld::~NodeWorld() {
  for (auto& [id, n] : nodes_)
    n->begin_stop(std::chrono::milliseconds(0));
  run_until(
      [this] {
        for (auto& [id, n] : nodes_)
          if (!n->stopped()) return false;
        return true;
      },
      std::chrono::seconds(10));
  nodes_.clear();
  std::error_code ec;
  std::filesystem::remove_all(root_, ec);
}

void NodeWorld::schedule(Clock::duration after, std::function<void()> fn) {
  events_queue_.push(Event{now_ + after, next_seq_++, std::move(fn)});
}

void NodeWorld::send(net::NodeId from, net::NodeId to, bool raft,
                     std::function<void(node::Node&)> deliver) {
  if (rng_.chance(loss_)) {
    ++lost_;
    return;
  }
  auto shared = std::make_shared<std::function<void(node::Node&)>>(std::move(deliver));
  const int copies = raft && rng_.chance(duplication_) ? 2 : 1;
  const auto span = static_cast<std::uint64_t>((options_.max_delay - options_.min_delay).count());
  for (int i = 0; i < copies; ++i)
    deliver_at(now_ + options_.min_delay + std::chrono::microseconds(rng_.below(span + 1)), from,
               to, shared);
}

void NodeWorld::deliver_at(Clock::time_point at, net::NodeId from, net::NodeId to,
                           std::shared_ptr<std::function<void(node::Node&)>> deliver) {
  const std::uint64_t incarnation = incarnation_[to];
  schedule(at - now_, [this, from, to, incarnation, deliver = std::move(deliver)] {
    // A cut decided at delivery: what was on the wire when the link went is lost too. So is what
    // was sent to a process that has crashed since (its connections are gone).
    auto it = nodes_.find(to);
    if (cut_.count({from, to}) || it == nodes_.end() || it->second->stopped() ||
        incarnation_[to] != incarnation) {
      ++lost_;
      return;
    }
    if (paused(to)) {  // it waits in the paused process's socket until the process runs again
      deliver_at(paused_until(to), from, to, deliver);
      return;
    }
    ++delivered_;
    (*deliver)(*it->second);
  });
}

void NodeWorld::pause(net::NodeId id, Clock::duration d) {
  auto& until = paused_until_[id];
  until = std::max(until, now_ + d);
}

bool NodeWorld::paused(net::NodeId id) const {
  auto it = paused_until_.find(id);
  return it != paused_until_.end() && it->second > now_;
}

Clock::time_point NodeWorld::paused_until(net::NodeId id) const {
  auto it = paused_until_.find(id);
  return it == paused_until_.end() ? now_ : std::max(it->second, now_);
}

void NodeWorld::skew(net::NodeId id, std::chrono::milliseconds delta) {
  envs_.at(id)->skew(delta.count());
}

void NodeWorld::isolate(net::NodeId id) {
  for (const auto& [other, n] : nodes_) {
    if (other == id) continue;
    cut(id, other);
    cut(other, id);
  }
}

bool NodeWorld::run_one(Clock::time_point limit) {
  if (events_queue_.empty() || events_queue_.top().at > limit) return false;
  Event e = events_queue_.top();
  events_queue_.pop();
  now_ = e.at;
  ++events_;
  e.fn();
  run_tasks();
  if (after_event_) after_event_();
  return true;
}

void NodeWorld::run_tasks() {
  // A node's tasks may post to its own queue (run here too) or send to others (events later).
  for (auto& [id, n] : nodes_) {
    if (paused(id)) continue;
    auto& io = n->io_context();
    while (!io.stopped() && io.poll() > 0) {
    }
  }
}

void NodeWorld::run_for(Clock::duration d) {
  const auto limit = now_ + d;
  while (run_one(limit)) {
  }
  now_ = limit;
}

bool NodeWorld::run_until(const std::function<bool()>& done, Clock::duration limit) {
  const auto end = now_ + limit;
  while (!done()) {
    if (!run_one(end)) {
      now_ = end;
      return done();
    }
  }
  return true;
}

net::NodeId NodeWorld::agreed_leader() const {
  net::NodeId leader = 0;
  for (const auto& [id, n] : nodes_) {
    if (n->stopped()) continue;
    const net::NodeId l = n->leader_id();
    if (l == 0 || (leader != 0 && l != leader)) return 0;
    leader = l;
  }
  auto it = nodes_.find(leader);
  if (it == nodes_.end() || it->second->stopped()) return 0;
  return leader;
}

}  // namespace cairn::sim
