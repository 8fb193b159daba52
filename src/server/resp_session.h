// One Redis client connection: reads and parses requests, runs them, and sends the answers in
// the order the requests arrived, whatever order they complete in.
//
// Order. Every request that cannot be answered at once (a write waiting for Raft, a read waiting
// for its read barrier, INFO waiting for the node's status) takes a numbered reply slot; answers
// fill their slots and leave for the socket only from the front. Two rules keep the effects in
// request order too, as one Redis connection promises:
//  * a read waits until every write sent before it on this connection has been applied, and then
//    takes a read barrier, so it sees those writes (even on a follower);
//  * a write waits until every read sent before it has been served, so those reads cannot see it.
// Within a run of reads (the common pipelined burst), all reads share one read barrier; within a
// run of writes, all are proposed at once and Raft batches them.
//
// Threading: everything runs on the connection's strand. Node callbacks arrive on the node thread
// and are posted to the strand; they hold a shared_ptr, so the session outlives them.
#pragma once

// A standard header before Asio's: Asio's config reads libstdc++'s macros (aligned allocation),
// and every translation unit must agree on them.
#include <cstddef>

#include <array>
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <variant>
#include <vector>

#include "server/input_buffer.h"
#include "server/resp/command_table.h"
#include "server/resp/parser.h"
#include "server/resp/reply.h"
#include "server/resp_commands.h"
#include "server/resp_context.h"

namespace cairn::server {

// A request's arguments copied out of the input buffer, for requests that wait.
class StoredArgs {
 public:
  explicit StoredArgs(Argv argv);
  // Views into this object: valid while it lives and is not moved.
  std::vector<std::string_view> views() const;

 private:
  std::string bytes_;
  std::vector<uint32_t> ends_;
};

class RespSession : public std::enable_shared_from_this<RespSession> {
 public:
  RespSession(asio::ip::tcp::socket socket, std::shared_ptr<RespContext> ctx, uint64_t id,
              std::function<void(uint64_t)> on_closed);
  void start();
  // Graceful stop: read no more, answer what was received (within drain_timeout), then close.
  void stop();

 private:
  struct Slot {
    std::string data;
    size_t counted = 0;  // bytes of data counted in slot_bytes_
    bool ready = false;
    // A write's: how its answer is worded, fixed when it was received.
    resp::Protocol proto = resp::Protocol::kResp2;
    WriteShape shape = WriteShape::kAsIs;
  };
  struct WriteOp {
    WritePlan plan;
    uint64_t slot;
    resp::Protocol proto;
  };
  struct ReadOp {
    resp::CommandId id;
    StoredArgs args;
    uint64_t slot;
    resp::Protocol proto;
    bool local;  // READONLY: serve from local state, no read barrier
  };
  using Op = std::variant<WriteOp, ReadOp>;
  // KEYS over a large keyspace, walked in steps (cache::Engine::keys_step).
  struct KeysOp {
    cache::KeysWalk walk;
    uint64_t slot = 0;
    resp::Protocol proto = resp::Protocol::kResp2;
    bool walked = false;  // the walk's keys are complete; the answer is being written
    size_t written = 0;   // keys written into `answer`
    std::string answer;
    bool posted = false;  // a step ran from the event loop, not from the request
  };
  // A write's answer, handed from the node thread to the strand.
  struct Finished {
    uint64_t slot;
    PlanResult result;
  };
  // The node's callback for a single-command write. Small and trivially copyable, so
  // std::function holds it without allocating; the session is kept alive by keepalive_ while
  // writes are in flight.
  struct WriteDone {
    RespSession* session;
    uint64_t slot;
    void operator()(node::Outcome o) const;
  };

  // resp_session.cc: I/O.
  asio::awaitable<void> read_loop();
  asio::awaitable<void> write_loop();
  // Parses and handles the requests at the front of buf; returns the bytes consumed. Stops early
  // (setting input_stalled_) when the connection is over its limits: the rest waits in in_.
  size_t parse_requests(std::string_view buf);
  void process_buffered();  // parse_requests() over in_
  // Keeps buf's unconsumed bytes in in_ (an incomplete request, or requests held back).
  void keep_input(std::string_view rest);
  void reserve_input(size_t bytes);  // in_ holds at least this many bytes, unparsed ones kept
  // About to wait for input: gives back buffers sized for past traffic, so an idle connection
  // holds a few KiB, not its largest burst.
  void release_idle_buffers();
  // Answers produced and not yet sent: the output, the write in progress and answers waiting
  // in their slots behind an earlier one.
  size_t unsent_bytes() const { return out_.size() + writing_.size() + slot_bytes_; }
  bool over_limits() const;
  // client-output-buffer-limit (normal class): the hard limit reached, or the soft limit held
  // for more than its seconds, as Redis's checkClientOutputBufferLimits.
  bool output_limit_reached();
  std::chrono::steady_clock::time_point soft_limit_deadline() const;
  void close_for_limit(bool output);
  void flush();
  void close_now(const char* why);
  void start_drain_deadline();
  bool finished() const;

  // resp_session_order.cc: slots and ordering.
  uint64_t reserve_slot();
  // The buffer an answer produced now goes to: the output itself when nothing is waiting.
  std::string& immediate_target();
  template <typename Fn>
  void complete(uint64_t slot, resp::Protocol proto, Fn&& write);
  void drain_slots();
  void submit(Op op);
  bool try_dispatch(Op& op);
  void start_write(WriteOp op);
  // Node thread: queues a write's answer; one post to the strand takes all queued at once, so a
  // commit of many of this connection's writes costs one wake-up and one socket write.
  void on_write_done(Finished f);
  void take_finished();
  // A read arriving now may be served at once: nothing is ahead of it on this connection, and
  // it is READONLY or the node can serve linearizable reads without a round (node thread only).
  bool can_serve_read_now() const;
  void serve_local(const ReadOp& op);
  // KEYS: its first step now; if the keyspace is too large for one, the next steps posted one at
  // a time behind whatever else the thread has to do. Nothing after it on this connection runs
  // until it is answered.
  void start_keys(uint64_t slot, resp::Protocol proto, std::string_view pattern);
  void continue_keys(const std::shared_ptr<KeysOp>& op);
  // Serves reads whose barrier has passed while the unsent answers are under
  // max_pending_output; the rest wait in ready_reads_ for the socket to drain.
  void serve_ready_reads();
  void close_batch();
  void unblock();

  // resp_session_commands.cc: one request.
  void handle_request(Argv argv);
  void run_session_command(const resp::CommandInfo& cmd, Argv argv, resp::ReplyWriter& w);
  void run_status_command(const resp::CommandInfo& cmd, Argv argv);
  void hello(Argv argv, resp::ReplyWriter& w);
  void client_info(resp::ReplyWriter& w) const;
  void config_get(Argv argv, resp::ReplyWriter& w) const;

  asio::ip::tcp::socket socket_;  // bound to this connection's strand
  const std::shared_ptr<RespContext> ctx_;
  const uint64_t id_;
  const std::function<void(uint64_t)> on_closed_;
  std::string peer_, local_;
  const std::chrono::steady_clock::time_point created_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_command_ = created_;
  std::string last_command_name_ = "NULL";

  asio::steady_timer writer_wake_;
  asio::steady_timer reader_wake_;
  asio::steady_timer drain_deadline_;

  // Input: bytes [in_begin_, in_end_) of in_ are unparsed. in_ exists only while a request is
  // incomplete, requests are held back by the limits, or reads keep finding more: a connection
  // waiting for input reads into idle_in_, and what it parses there is never copied.
  InputBuffer in_;
  size_t in_begin_ = 0, in_end_ = 0;
  bool input_stalled_ = false;  // in_ may hold complete requests not parsed yet (limits)
  std::array<char, 2048> idle_in_;
  resp::RequestParser parser_;

  // Connection state (HELLO, CLIENT SETNAME, READONLY).
  resp::Protocol proto_ = resp::Protocol::kResp2;
  std::string name_;
  bool readonly_ = false;

  // Answers: out_ is ready to send; slots_ wait in request order, the front being first_slot_.
  std::string out_;
  std::string writing_;
  std::deque<Slot> slots_;
  uint64_t first_slot_ = 0;
  size_t slot_bytes_ = 0;  // answers written into slots behind the front one
  // When the soft output limit was first reached (soft_reached_), for its seconds.
  bool soft_reached_ = false;
  std::chrono::steady_clock::time_point soft_since_{};

  // Ordering (see the top of this file).
  std::deque<Op> blocked_;                  // requests waiting for earlier ones, in order
  std::vector<ReadOp> open_batch_;          // reads that will share the next read barrier
  std::deque<ReadOp> ready_reads_;          // barrier passed, waiting for output room
  size_t writes_in_flight_ = 0;             // plans handed to the node, not yet answered
  std::shared_ptr<RespSession> keepalive_;  // this session, while writes_in_flight_ > 0
  size_t barriers_in_flight_ = 0;           // read barriers requested, not yet served
  size_t status_in_flight_ = 0;             // INFO / WAIT waiting for node.status()
  size_t walks_in_flight_ = 0;              // KEYS between two of its steps

  std::mutex finished_mu_;
  std::vector<Finished> finished_;   // guarded by finished_mu_
  bool finished_posted_ = false;     // guarded by finished_mu_; a take_finished() is on its way
  std::vector<Finished> finishing_;  // strand: the batch being answered

  bool writing_now_ = false;
  bool reader_waiting_ = false;  // the reader is paused by over_limits()
  bool reading_done_ = false;
  bool closing_ = false;  // QUIT or a protocol error: read no more, close once answered
  bool stopping_ = false;
  bool closed_ = false;
};

// Writes an answer into its slot; the front slot's answer goes straight to the output, so the
// usual case copies nothing.
template <typename Fn>
void RespSession::complete(uint64_t slot, resp::Protocol proto, Fn&& write) {
  if (slot == first_slot_) {
    resp::ReplyWriter w(out_, proto);
    write(w);
    slots_.pop_front();
    ++first_slot_;
    drain_slots();
    return;
  }
  Slot& s = slots_[slot - first_slot_];
  resp::ReplyWriter w(s.data, proto);
  write(w);
  s.ready = true;
  s.counted = s.data.size();
  slot_bytes_ += s.counted;
}

}  // namespace cairn::server
