#!/usr/bin/python3
"""Redis clients against a 3-node cluster whose leader is paused (SIGSTOP) and resumed, again and
again; then the history is checked.

Clients on every node run INCR on a few counters and SET (unique values) / GET on a few
registers until the last pause has ended and the cluster has served writes since. The checks:

  * INCR: the acknowledged answers on one counter are all different, and an INCR that began
    after another one was answered got a larger number (a leader that answered a client with
    another entry's outcome breaks one or the other: an INCR on a counter near 4,000 answered 1);
  * GET: never a value nobody wrote, and never a value that a later acknowledged SET had
    replaced before the GET began;
  * every pause had an effect: a new leader (a higher term) took over while the old one was
    stopped, and writes were acknowledged after each pause.

An operation whose outcome is unknown (a timeout, a dropped connection, "dropped") counts as a
write that may have happened at any time after its call; a refusal (TRYAGAIN, MOVED-like errors)
as one that did not.

    /usr/bin/python3 tests/integration/resp/pause_leader_check.py --server build/tools/cairn-server/cairn-server
    (defaults: 8 clients, 5 pauses of at least 3 s, each until a new leader is elected, 5 s
    apart: about 40 s; --pauses/--pause-s/--gap-s to change)

Exit status 0 when every check holds, 1 when one fails (with the offending operations), 2 on a
setup error. Every process it starts is stopped by PID; every wait is bounded.
"""

import argparse
import bisect
import os
import random
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cairn_proc  # noqa: E402

import redis  # noqa: E402  (Debian's python3-redis; run with /usr/bin/python3)

COUNTERS = ["c0", "c1", "c2"]
REGISTERS = ["r0", "r1", "r2"]


class History:
    def __init__(self):
        self.lock = threading.Lock()
        self.incrs = []  # (key, call, ret, value)
        self.sets = []   # (key, call, ret or None if unknown, value)
        self.gets = []   # (key, call, ret, value or None)
        self.acked_writes = []  # return times of acknowledged writes
        self.unknown = 0
        self.refused = 0
        self.wrong_replies = []  # replies that cannot be this command's

    def add(self, kind, *rec):
        with self.lock:
            getattr(self, kind).append(rec)


def client_loop(port, seed, stop, hist):
    rnd = random.Random(seed)
    conn = redis.Redis(host="127.0.0.1", port=port, socket_timeout=8, socket_connect_timeout=2)
    n = 0
    while not stop.is_set():
        n += 1
        op = rnd.random()
        call = time.monotonic()
        try:
            if op < 0.4:
                key = rnd.choice(COUNTERS)
                v = conn.incr(key)
                ret = time.monotonic()
                hist.add("incrs", key, call, ret, int(v))
                hist.add("acked_writes", ret)
            elif op < 0.7:
                key = rnd.choice(REGISTERS)
                value = "%d-%d" % (seed, n)
                try:
                    conn.set(key, value)
                except (redis.exceptions.TimeoutError, redis.exceptions.ConnectionError):
                    hist.add("sets", key, call, None, value)
                    raise
                except redis.exceptions.ResponseError as e:
                    if not str(e).startswith("TRYAGAIN"):
                        hist.add("sets", key, call, None, value)  # outcome unknown
                    raise
                ret = time.monotonic()
                hist.add("sets", key, call, ret, value)
                hist.add("acked_writes", ret)
            else:
                key = rnd.choice(REGISTERS)
                v = conn.get(key)
                hist.add("gets", key, call, time.monotonic(), None if v is None else v.decode())
        except redis.exceptions.ResponseError as e:
            with hist.lock:
                if str(e).startswith("TRYAGAIN"):
                    hist.refused += 1
                else:
                    hist.unknown += 1
            time.sleep(0.01)
        except (redis.exceptions.TimeoutError, redis.exceptions.ConnectionError):
            with hist.lock:
                hist.unknown += 1
            time.sleep(0.05)
            conn = redis.Redis(host="127.0.0.1", port=port, socket_timeout=8,
                               socket_connect_timeout=2)
        except ValueError as e:
            # A reply of the wrong kind for the command (an INCR answered "OK"): the answer of
            # another client's request.
            with hist.lock:
                hist.wrong_replies.append("%s at %.3f: %s" % ("INCR" if op < 0.4 else "SET",
                                                              call, e))


def check_incrs(hist):
    problems = []
    by_key = {}
    for key, call, ret, v in hist.incrs:
        by_key.setdefault(key, []).append((call, ret, v))
    for key, ops in by_key.items():
        seen = {}
        for call, ret, v in ops:
            if v in seen:
                problems.append("INCR %s answered %d twice (calls at %.3f and %.3f)" %
                                (key, v, seen[v], call))
            seen[v] = call
        by_ret = sorted(ops, key=lambda o: o[1])
        best_before = 0  # the largest answer returned before a given call
        j = 0
        for call, ret, v in sorted(ops):
            while j < len(by_ret) and by_ret[j][1] < call:
                best_before = max(best_before, by_ret[j][2])
                j += 1
            if v <= best_before:
                problems.append("INCR %s called at %.3f answered %d, but %d was answered before "
                                "it began" % (key, call, v, best_before))
    return problems


def check_gets(hist):
    problems = []
    written = {}
    # Per key: acknowledged SETs by call time, with the earliest acknowledgement among each suffix,
    # so "was this value overwritten before the GET began" is one binary search.
    acked = {}
    for key, call, ret, value in hist.sets:
        written[(key, value)] = (call, ret)
        if ret is not None:
            acked.setdefault(key, []).append((call, ret))
    suffix_min = {}
    for key, ops in acked.items():
        ops.sort()
        mins = [float("inf")] * (len(ops) + 1)
        for i in range(len(ops) - 1, -1, -1):
            mins[i] = min(mins[i + 1], ops[i][1])
        suffix_min[key] = ([c for c, _ in ops], mins)
    for key, call, ret, value in hist.gets:
        if value is None:
            continue
        if (key, value) not in written:
            problems.append("GET %s returned %r, which nobody wrote" % (key, value))
            continue
        w_call, w_ret = written[(key, value)]
        if w_call > ret:
            problems.append("GET %s returned %r before its SET began" % (key, value))
            continue
        if w_ret is None or key not in suffix_min:
            continue  # an unknown-outcome SET may take effect at any time after its call
        # Stale: another acknowledged SET began after this value's SET was acknowledged and was
        # itself acknowledged before the GET began.
        calls, mins = suffix_min[key]
        i = bisect.bisect_right(calls, w_ret)
        if mins[i] < call:
            problems.append("GET %s at %.3f returned %r, which a SET acknowledged at %.3f had "
                            "replaced before the GET began" % (key, call, value, mins[i]))
    return problems


def leader_and_term(cluster, skip=None):
    """(leader id, term) as the live nodes report them, or (0, 0)."""
    best = (0, 0)
    for n in cluster.nodes:
        if n.id == skip:
            continue
        try:
            f = cairn_proc.info_fields(n.resp_port)
            lead, term = int(f.get("raft_leader_id", "0")), int(f.get("raft_term", "0"))
        except (OSError, ValueError, IndexError):
            continue
        if lead and term > best[1]:
            best = (lead, term)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--pauses", type=int, default=5)
    ap.add_argument("--pause-s", type=float, default=3.0)
    ap.add_argument("--gap-s", type=float, default=5.0, help="running time between pauses")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    # An election timeout of 0.6-1.2 s: a 3 s pause deposes the leader.
    cluster = cairn_proc.Cluster(args.server, size=3, election_ticks=30)
    hist = History()
    stop = threading.Event()
    problems = []
    threads = []
    try:
        for i in range(args.clients):
            port = cluster.nodes[i % 3].resp_port
            t = threading.Thread(target=client_loop, args=(port, args.seed * 1000 + i, stop, hist),
                                 daemon=True)
            t.start()
            threads.append(t)
        for p in range(args.pauses):
            time.sleep(args.gap_s)
            lead, term = leader_and_term(cluster)
            if not lead:
                problems.append("pause %d: no leader before the pause" % (p + 1))
                continue
            acked_before = len(hist.acked_writes)
            victim = cluster.node(lead)
            victim.proc.send_signal(signal.SIGSTOP)
            # The pause lasts --pause-s, and longer (up to 30 s) until the others have elected
            # a new leader: every pause must depose the leader it stopped.
            started = time.monotonic()
            took_over = False
            while time.monotonic() < started + 30 and (
                    not took_over or time.monotonic() < started + args.pause_s):
                new_lead, new_term = leader_and_term(cluster, skip=lead)
                took_over |= new_lead not in (0, lead) and new_term > term
                time.sleep(0.05)
            paused = time.monotonic() - started
            victim.proc.send_signal(signal.SIGCONT)
            if not took_over:
                problems.append("pause %d: no new leader took over from node %d within %.1f s" %
                                (p + 1, lead, paused))
            print("pause %d: leader %d (term %d) stopped %.1f s; new leader seen: %s; "
                  "writes acknowledged meanwhile: %d" %
                  (p + 1, lead, term, paused, took_over,
                   len(hist.acked_writes) - acked_before), flush=True)
        # Work on after the last pause until writes are acknowledged again (bounded).
        healed = time.monotonic()
        n0 = len(hist.acked_writes)
        deadline = healed + 30
        while time.monotonic() < deadline and len(hist.acked_writes) < n0 + 50:
            time.sleep(0.05)
        if len(hist.acked_writes) < n0 + 50:
            problems.append("no progress within 30 s after the last pause")
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=20)
        try:
            cluster.stop()
        except RuntimeError as e:
            problems.append(str(e))
    problems += ["a reply of the wrong kind: " + w for w in hist.wrong_replies]
    problems += check_incrs(hist) + check_gets(hist)
    print("%d INCRs, %d SETs, %d GETs acknowledged; %d unknown outcomes, %d refused" %
          (len(hist.incrs), sum(1 for s in hist.sets if s[2] is not None), len(hist.gets),
           hist.unknown, hist.refused))
    if problems:
        for p in problems[:30]:
            print("FAIL:", p)
        print("%d problem(s)" % len(problems))
        return 1
    print("ok: every INCR answer unique and in real-time order, no stale or invented GET")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RuntimeError as e:
        print("setup error:", e, file=sys.stderr)
        sys.exit(2)
