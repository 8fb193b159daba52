#!/usr/bin/python3
"""The Redis front end's per-client buffers are bounded, as Redis bounds them, against real
cairn-server processes (each scenario its own, on 127.0.0.1 with its own --data-dir):

  burst     one packet of 1000 `GET big` (a 1 MiB value) from a client that reads nothing: the
            session stops parsing while its unsent answers exceed a bound and resumes as they
            drain, so resident memory grows by at most 256 MB (before: every answer was built
            at once, over 2 GB for these 1000 and 7.3 GB for 3000); another client is served
            meanwhile, and once the slow client reads, it gets all 1000 answers whole.
            Caught mutation: resp-burst-backpressure
  limits    CONFIG SET/GET of client-output-buffer-limit and client-query-buffer-limit answer
            byte for byte as redis-server 7.0.15 does (checked against a live one); a client
            over the hard output limit, over the soft limit for longer than its seconds, or
            over the query buffer limit is closed and counted in INFO stats
            (client_output_buffer_limit_disconnections, client_query_buffer_limit_disconnections),
            and another client is still served.
            Caught mutations: resp-output-hard-limit, resp-output-soft-limit, resp-query-buffer-limit
  idle      2000 idle connections, half of which first received a 64 KiB answer and half sent
            a 70 KB request, cost at most 16 KiB of resident memory each (before: about 75 KB).
            Caught mutations: resp-idle-read-buffer, resp-idle-output-released

    /usr/bin/python3 tests/integration/resp/client_buffers_test.py --server build/tools/cairn-server/cairn-server [--only burst|limits|idle]
"""

import argparse
import os
import resource
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cairn_proc  # noqa: E402

MIB = 1 << 20


def stat(port, field, section="stats"):
    return int(cairn_proc.info_fields(port, section)[field])


def wait_for(what, predicate, seconds=30.0):
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError("gave up waiting for " + what)
        time.sleep(0.05)


def slow_reader(port):
    """A client whose receive window is tiny: the server's answers pile up on the server."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    return s


def closed_by_server(s, seconds=20.0):
    """True once the server has closed s (EOF or reset), reading and dropping what arrives."""
    s.settimeout(seconds)
    try:
        while s.recv(1 << 20):
            pass
        return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def set_big(port, size):
    value = b"v" * size
    if cairn_proc.resp_command(port, "SET", "big", value, timeout=30) != b"+OK\r\n":
        raise RuntimeError("SET big failed")
    return value


def burst(server, problems):
    gets = 1000
    cluster = cairn_proc.Cluster(server, size=1)
    try:
        node = cluster.nodes[0]
        port, pid = node.resp_port, node.proc.pid
        value = set_big(port, MIB)
        before = cairn_proc.rss_bytes(pid)
        inbound = stat(port, "total_net_input_bytes")
        packet = b"GET big\r\n" * gets
        s = slow_reader(port)
        s.sendall(packet)
        # Once INFO counts the packet's bytes, the read that brought them in has been handled.
        wait_for("the server to read the burst",
                 lambda: stat(port, "total_net_input_bytes") >= inbound + len(packet))
        peak = 0
        for _ in range(20):
            if cairn_proc.resp_command(port, "PING", timeout=30) != b"+PONG\r\n":
                problems.append("burst: another client's PING was not answered")
            peak = max(peak, cairn_proc.rss_bytes(pid))
        got = cairn_proc.resp_command(port, "GET", "big", timeout=30)
        if got != b"$%d\r\n%s\r\n" % (len(value), value):
            problems.append("burst: another client's GET got %d bytes" % len(got))
        grown = peak - before
        print("burst: %d pipelined GETs of 1 MiB, unread: resident memory grew %.1f MB" %
              (gets, grown / 1e6))
        if grown > 256 * MIB:
            problems.append("burst: resident memory grew %d bytes (bound %d)" % (grown, 256 * MIB))
        # The held-back requests are answered as the client reads: every answer, whole.
        answer = b"$%d\r\n%s\r\n" % (len(value), value)
        want = gets * len(answer)
        buf = bytearray(4 * MIB)
        total = 0
        s.settimeout(60)
        while total < want:
            n = s.recv_into(buf)
            if n == 0:
                break
            total += n
        s.close()
        if total != want:
            problems.append("burst: the slow client read %d of %d answer bytes" % (total, want))
        if stat(port, "client_output_buffer_limit_disconnections") != 0:
            problems.append("burst: a client was closed with the default (unlimited) limits")
    finally:
        cluster.stop()


# CONFIG SET/GET replies as redis-server 7.0.15 gives them for the same commands in this order
# (checked against a live server; Redis's own defaults throughout).
CONFIG_CASES = [
    (["CONFIG", "GET", "client-output-buffer-limit"],
     b"*2\r\n$26\r\nclient-output-buffer-limit\r\n$67\r\n"
     b"normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60\r\n"),
    (["CONFIG", "GET", "client-query-buffer-limit"],
     b"*2\r\n$25\r\nclient-query-buffer-limit\r\n$10\r\n1073741824\r\n"),
    (["CONFIG", "SET", "client-output-buffer-limit", "normal 64mb 32mb 10"], b"+OK\r\n"),
    (["CONFIG", "GET", "client-output-buffer-limit"],
     b"*2\r\n$26\r\nclient-output-buffer-limit\r\n$82\r\n"
     b"normal 67108864 33554432 10 slave 268435456 67108864 60 pubsub 33554432 8388608 60\r\n"),
    (["CONFIG", "SET", "client-output-buffer-limit", "normal 1 2"],
     b"-ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - "
     b"Wrong number of arguments in buffer limit configuration.\r\n"),
    (["CONFIG", "SET", "client-output-buffer-limit", "master 1 2 3"],
     b"-ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - "
     b"Invalid client class specified in buffer limit configuration.\r\n"),
    (["CONFIG", "SET", "client-output-buffer-limit", "normal -1 1 1"],
     b"-ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - "
     b"Error in hard, soft or soft_seconds setting in buffer limit configuration.\r\n"),
    (["CONFIG", "SET", "client-output-buffer-limit", "pubsub 1k 2kb 3 NORMAL 5 6 +7"], b"+OK\r\n"),
    (["CONFIG", "SET", "client-output-buffer-limit", "replica 1mB B 3"], b"+OK\r\n"),
    (["CONFIG", "GET", "client-output-buffer-limit"],
     b"*2\r\n$26\r\nclient-output-buffer-limit\r\n$49\r\n"
     b"normal 5 6 7 slave 1048576 0 3 pubsub 1000 2048 3\r\n"),
    (["CONFIG", "SET", "client-query-buffer-limit", "1000"],
     b"-ERR CONFIG SET failed (possibly related to argument 'client-query-buffer-limit') - "
     b"argument must be between 1048576 and 9223372036854775807 inclusive\r\n"),
    (["CONFIG", "SET", "client-query-buffer-limit", "1.5mb"],
     b"-ERR CONFIG SET failed (possibly related to argument 'client-query-buffer-limit') - "
     b"argument must be a memory value\r\n"),
    (["CONFIG", "SET", "Client-Query-Buffer-Limit", "2000kB"], b"+OK\r\n"),
    (["CONFIG", "SET", "client-query-buffer-limit", "3mb", "client-output-buffer-limit",
      "normal 1"],
     b"-ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - "
     b"Wrong number of arguments in buffer limit configuration.\r\n"),
    (["CONFIG", "GET", "client-query-buffer-limit"],
     b"*2\r\n$25\r\nclient-query-buffer-limit\r\n$7\r\n2048000\r\n"),
    (["CONFIG", "SET", "client-query-buffer-limit", "2mb", "client-query-buffer-limit", "3mb"],
     b"-ERR CONFIG SET failed (possibly related to argument 'client-query-buffer-limit') - "
     b"duplicate parameter\r\n"),
    (["CONFIG", "SET", "client-query-buffer-limit", "abc", "nosuch", "1"],
     b"-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n"),
    (["CONFIG", "SET", "a", "b", "c"], b"-ERR syntax error\r\n"),
    (["CONFIG", "SET", "client-query-buffer-limit"],
     b"-ERR wrong number of arguments for 'config|set' command\r\n"),
    (["CONFIG", "SET", "client-query-buffer-limit", "1gb", "client-output-buffer-limit",
      "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"], b"+OK\r\n"),
]


def limits(server, problems):
    cluster = cairn_proc.Cluster(server, size=1)
    try:
        port = cluster.nodes[0].resp_port
        for args, want in CONFIG_CASES:
            got = cairn_proc.resp_command(port, *args)
            if got != want:
                problems.append("limits: %s answered %r, Redis %r" % (args[1:], got, want))
        set_big(port, MIB)

        def over_output_limit(config, counted):
            cairn_proc.resp_command(port, "CONFIG", "SET", "client-output-buffer-limit", config)
            s = slow_reader(port)
            s.sendall(b"GET big\r\n" * 200)
            # Not reading meanwhile: a reader would drain the answers under the soft limit.
            try:
                wait_for("client_output_buffer_limit_disconnections to reach %d" % counted,
                         lambda: stat(port, "client_output_buffer_limit_disconnections") >= counted,
                         seconds=20)
            except RuntimeError as e:
                problems.append("limits: '%s': %s" % (config, e))
            if not closed_by_server(s):
                problems.append("limits: a client over '%s' was not closed" % config)
            s.close()
            if stat(port, "client_output_buffer_limit_disconnections") != counted:
                problems.append("limits: client_output_buffer_limit_disconnections is not %d "
                                "after '%s'" % (counted, config))

        # Hard: closed once 4 MB of answers are unsent.
        over_output_limit("normal 4mb 0 0", 1)
        # Soft: 2 MB unsent for more than a second. The session is paused by its backpressure
        # bound meanwhile, so it is closed by the soft limit's deadline, not by new answers.
        over_output_limit("normal 0 2mb 1", 2)
        cairn_proc.resp_command(port, "CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0")

        # A request bigger than the query buffer limit, still arriving: closed, nothing answered.
        cairn_proc.resp_command(port, "CONFIG", "SET", "client-query-buffer-limit", "1mb")
        q = socket.create_connection(("127.0.0.1", port), timeout=30)
        q.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nq\r\n$3000000\r\n" + b"x" * (2 * MIB))
        if not closed_by_server(q):
            problems.append("limits: a client over client-query-buffer-limit was not closed")
        q.close()
        if stat(port, "client_query_buffer_limit_disconnections") != 1:
            problems.append("limits: client_query_buffer_limit_disconnections is not 1")
        # Within the limit: served.
        if cairn_proc.resp_command(port, "SET", "q", b"y" * (512 * 1024), timeout=30) != b"+OK\r\n":
            problems.append("limits: a 512 KiB SET under a 1mb query buffer limit failed")
        if cairn_proc.resp_command(port, "PING") != b"+PONG\r\n":
            problems.append("limits: another client was not served")
        print("limits: CONFIG answers as Redis; output (hard, soft) and query limits close and "
              "count")
    finally:
        cluster.stop()


def idle(server, problems):
    conns = 2000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 2 * conns + 300  # the server divides it between its two front ends
    if soft < want:
        if hard != resource.RLIM_INFINITY and hard < want:
            raise RuntimeError("the idle test needs ulimit -n %d (hard limit is %d)" % (want, hard))
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))  # the server inherits it
    # Under AddressSanitizer, freed buffers wait in a 256 MB quarantine before reuse, which this
    # bound would count; a small one keeps the measure about the server (no effect otherwise).
    asan = os.environ.get("ASAN_OPTIONS", "")
    os.environ["ASAN_OPTIONS"] = (asan + ":" if asan else "") + "quarantine_size_mb=1"
    try:
        cluster = cairn_proc.Cluster(server, size=1)
    finally:
        os.environ["ASAN_OPTIONS"] = asan
        if not asan:
            del os.environ["ASAN_OPTIONS"]
    socks = []
    try:
        node = cluster.nodes[0]
        port, pid = node.resp_port, node.proc.pid
        cairn_proc.resp_command(port, "SET", "v64", b"w" * (64 * 1024))
        # Warm the allocator and the server's structures with one round of the same churn.
        for _ in range(100):
            s = socket.create_connection(("127.0.0.1", port), timeout=30)
            s.sendall(b"GET v64\r\n")
            s.recv(1)
            s.close()
        # INFO's own connection is the one left.
        wait_for("the warm-up connections to close",
                 lambda: stat(port, "connected_clients", "clients") == 1)
        before = cairn_proc.rss_bytes(pid)
        for i in range(conns):
            s = socket.create_connection(("127.0.0.1", port), timeout=30)
            # Each asks once, so every connection has been through the read and write paths:
            # half get a 64 KiB answer, half send a 70 KB request (larger than any buffer an
            # idle connection reads into). All of it is read before the next connection opens.
            if i % 2:
                s.sendall(b"GET v64\r\n")
                want_bytes = 64 * 1024 + 10
            else:
                s.sendall(b"*2\r\n$3\r\nGET\r\n$70000\r\n%s\r\n" % (b"k" * 70000))
                want_bytes = None  # one line: $-1 or an error
            got = b""
            while (len(got) < want_bytes) if want_bytes else not got.endswith(b"\r\n"):
                chunk = s.recv(1 << 20)
                if not chunk:
                    raise RuntimeError("connection %d closed" % i)
                got += chunk
            socks.append(s)
        if stat(port, "connected_clients", "clients") < conns:
            problems.append("idle: not all connections are open")
        grown = cairn_proc.rss_bytes(pid) - before
        per = grown / conns
        print("idle: %d connections: resident memory grew %.1f MB (%.1f KB each)" %
              (conns, grown / 1e6, per / 1e3))
        # Under ThreadSanitizer (scripts/test.sh tsan sets TSAN_OPTIONS) resident memory also
        # holds the shadow memory TSan keeps for every byte the server touches, several times
        # the bytes themselves (an idle connection measured 44 KB there, 8 KB without): the
        # bound is scaled so the test still fails on a kept 64 KiB read buffer per connection.
        bound = 16 * 1024 * (4 if "TSAN_OPTIONS" in os.environ else 1)
        if per > bound:
            problems.append("idle: %.0f bytes per idle connection (bound %d KiB)"
                            % (per, bound // 1024))
        if cairn_proc.resp_command(port, "PING") != b"+PONG\r\n":
            problems.append("idle: another client was not served")
    finally:
        for s in socks:
            s.close()
        cluster.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--only", choices=["burst", "limits", "idle"])
    args = ap.parse_args()
    problems = []
    for name, fn in (("burst", burst), ("limits", limits), ("idle", idle)):
        if args.only in (None, name):
            fn(args.server, problems)
    for p in problems:
        print("FAIL:", p)
    print("ok" if not problems else "%d problem(s)" % len(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
