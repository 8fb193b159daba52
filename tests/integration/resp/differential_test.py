"""Differential test: random command sequences sent to cairn-server and to redis-server 7.0 side by
side, every reply compared byte for byte.

Both servers start on free 127.0.0.1 ports with their own temporary directories (redis-server
without persistence) and are stopped by PID. Each run draws `--ops` commands from a seeded
generator over the commands it covers (the string and bitmap families: SET, APPEND, SETRANGE,
GETRANGE, STRLEN, DEL, GET, SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO, LCS),
with bad arguments mixed in:
non-integers, negative and huge offsets, unknown options, wrong argument counts. The first reply
that differs fails the run and is printed with the commands before it; `--seed` replays it.

  /usr/bin/python3 differential_test.py --server build/tools/cairn-server/cairn-server \
      [--seeds N] [--ops N] [--seed S]

Caught mutation: resp-bitcount-negative-bounds-first
"""

import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cairn_proc  # noqa: E402

KEYS = [b"k0", b"k1", b"k2", b"missing"]


class Conn:
    """One RESP2 connection; call() sends a command and returns its whole reply, raw."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def call(self, args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)
        return self.reply()

    def line(self):
        while b"\r\n" not in self.buf:
            self.fill()
        head, _, self.buf = self.buf.partition(b"\r\n")
        return head + b"\r\n"

    def fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self.buf += chunk

    def reply(self):
        head = self.line()
        kind = head[:1]
        if kind == b"$":
            n = int(head[1:-2])
            if n < 0:
                return head
            while len(self.buf) < n + 2:
                self.fill()
            body, self.buf = self.buf[:n + 2], self.buf[n + 2:]
            return head + body
        if kind == b"*":
            n = int(head[1:-2])
            return head + b"".join(self.reply() for _ in range(max(n, 0)))
        return head


def start_redis(port, workdir):
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", workdir],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if cairn_proc.resp_command(port, "PING") == b"+PONG\r\n":
                return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    proc.wait(timeout=10)
    raise RuntimeError("redis-server did not answer PING on port %d" % port)


class Generator:
    def __init__(self, rng):
        self.r = rng

    def key(self):
        return self.r.choice(KEYS)

    def value(self):
        n = self.r.choice([0, 1, 2, 3, 5, 8, 13])
        return bytes(self.r.choice([0, 0xff, self.r.randrange(256)]) for _ in range(n))

    def index(self):
        """A range bound: mostly small, either sign, sometimes far out or not a number."""
        x = self.r.random()
        if x < 0.05:
            return self.r.choice([b"x", b"", b"1.5", b" 1", b"+1", b"01"])
        if x < 0.1:
            return str(self.r.choice([2**63 - 1, -2**63, 2**40, -2**40])).encode()
        return str(self.r.randrange(-40, 120)).encode()

    def bit_offset(self):
        x = self.r.random()
        if x < 0.08:  # refused: negative, not an integer, or a byte past 512 MB
            return self.r.choice([b"-1", b"x", b"4294967296", b"9999999999999", b"1e3", b""])
        return str(self.r.randrange(0, 200 if x < 0.9 else 40000)).encode()

    def unit(self):
        return self.r.choice([b"BYTE", b"BIT", b"bit", b"byte", b"bits"])

    def bit(self):
        return self.r.choice([b"0", b"1", b"0", b"1", b"2", b"-1", b"x"])

    def field_type(self):
        x = self.r.random()
        if x < 0.05:
            return self.r.choice([b"u64", b"i65", b"u0", b"x8", b"", b"i", b"U8x", b"i-1"])
        sign = self.r.choice([b"i", b"u", b"I", b"U"])
        top = 64 if sign in (b"i", b"I") else 63
        return sign + str(self.r.choice([1, 2, 3, 4, 7, 8, 9, 15, 16, 31, 32, 33, top,
                                         self.r.randrange(1, top + 1)])).encode()

    def field_offset(self):
        x = self.r.random()
        if x < 0.05:
            # Refused ones only: a valid far offset would make values of hundreds of MB.
            return self.r.choice([b"-1", b"#-1", b"x", b"#", b"4294967296",
                                  b"#99999999999999999999"])
        if x < 0.35:
            return b"#" + str(self.r.randrange(0, 12)).encode()
        return str(self.r.randrange(0, 100)).encode()

    def field_value(self):
        x = self.r.random()
        if x < 0.04:
            return self.r.choice([b"x", b"", b"1.0", b"9223372036854775808"])
        if x < 0.3:
            return str(self.r.choice([2**63 - 1, -2**63, 2**62, -2**62, 2**31, -1, 255, 256,
                                      -129, 128])).encode()
        return str(self.r.randrange(-300, 300)).encode()

    def bitfield(self, read_only):
        args = [b"BITFIELD_RO" if read_only else b"BITFIELD", self.key()]
        for _ in range(self.r.choice([0, 1, 1, 2, 3, 4])):
            sub = self.r.choice([b"GET", b"get", b"SET", b"INCRBY", b"incrby", b"OVERFLOW"]
                                if not read_only or self.r.random() < 0.2 else [b"GET", b"get"])
            if sub == b"OVERFLOW":
                args += [sub, self.r.choice([b"WRAP", b"SAT", b"FAIL", b"fail", b"sat", b"bad"])]
                continue
            args += [sub, self.field_type(), self.field_offset()]
            if sub.upper() != b"GET":
                args.append(self.field_value())
        if self.r.random() < 0.05:
            args = args[:-1]  # a subcommand short of its words
        return args

    def command(self):
        g = self.r.choice(["set", "append", "setrange", "getrange", "strlen", "del", "get",
                           "setbit", "setbit", "getbit", "bitcount", "bitcount", "bitpos",
                           "bitpos", "bitop", "bitfield", "bitfield", "bitfield_ro", "lcs"])
        if g == "lcs":
            args = [b"LCS", self.key(), self.key()]
            for _ in range(self.r.choice([0, 0, 1, 2, 3])):
                args += self.r.choice([[b"LEN"], [b"IDX"], [b"idx"], [b"WITHMATCHLEN"],
                                       [b"MINMATCHLEN", self.index()], [b"MINMATCHLEN"], [b"foo"]])
            return args
        if g in ("bitfield", "bitfield_ro"):
            return self.bitfield(g == "bitfield_ro")
        k = self.key()
        if g == "set":
            return [b"SET", k, self.value()]
        if g == "append":
            return [b"APPEND", k, self.value()]
        if g == "setrange":
            return [b"SETRANGE", k, str(self.r.randrange(0, 24)).encode(), self.value()]
        if g == "getrange":
            return [b"GETRANGE", k, self.index(), self.index()]
        if g == "strlen":
            return [b"STRLEN", k]
        if g == "del":
            return [b"DEL", k]
        if g == "get":
            return [b"GET", k]
        if g == "setbit":
            return [b"SETBIT", k, self.bit_offset(), self.bit()]
        if g == "getbit":
            return [b"GETBIT", k, self.bit_offset()]
        if g == "bitcount":
            args = [b"BITCOUNT", k]
            n = self.r.choice([0, 0, 1, 2, 2, 3, 4])
            for i in range(n):
                args.append(self.unit() if i == 2 else self.index())
            return args
        if g == "bitpos":
            args = [b"BITPOS", k, self.bit()]
            n = self.r.choice([0, 1, 2, 3, 3, 4])
            for i in range(n):
                args.append(self.unit() if i == 2 else self.index())
            return args
        op = self.r.choice([b"AND", b"OR", b"XOR", b"NOT", b"not", b"nand"])
        sources = [self.key() for _ in range(self.r.choice([0, 1, 1, 2, 3]))]
        return [b"BITOP", op, self.key()] + sources


def show(args):
    return " ".join(repr(a)[2:-1] if a else '""' for a in args)


def run(cairn_port, redis_port, ops, seed):
    rng = random.Random(seed)
    gen = Generator(rng)
    ours, theirs = Conn(cairn_port), Conn(redis_port)
    history = []
    for i in range(ops):
        args = gen.command()
        history.append(args)
        a, b = ours.call(args), theirs.call(args)
        if a != b:
            print("seed %d: reply %d differs" % (seed, i))
            for h in history[-15:]:
                print("  > " + show(h))
            print("  cairn:        %r" % a)
            print("  redis-server: %r" % b)
            return False
    # The keyspaces agree at the end too.
    for k in KEYS:
        if ours.call([b"GET", k]) != theirs.call([b"GET", k]):
            print("seed %d: the value of %s differs at the end" % (seed, k.decode()))
            return False
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--ops", type=int, default=4000, help="commands per seed")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--seed", type=int, help="run this seed only")
    args = ap.parse_args()
    if shutil.which("redis-server") is None:
        sys.exit("redis-server is missing: install redis-server (scripts/install-deps.sh)")
    seeds = [args.seed] if args.seed is not None else list(range(1, args.seeds + 1))
    workdir = tempfile.mkdtemp(prefix="cairn-differential-")
    cluster = cairn_proc.Cluster(args.server, 1)
    redis = None
    ok = False
    try:
        redis = start_redis(cairn_proc.free_port(), workdir)
        redis_port = int(redis.args[2])
        cairn_port = cluster.nodes[0].resp_port
        ok = True
        for seed in seeds:
            for port in (cairn_port, redis_port):
                cairn_proc.resp_command(port, "FLUSHALL")
            if not run(cairn_port, redis_port, args.ops, seed):
                ok = False
                break
        if ok:
            print("%d seeds x %d commands: every reply as redis-server's" % (len(seeds), args.ops))
    finally:
        if redis is not None:
            redis.send_signal(signal.SIGTERM)
            try:
                redis.wait(timeout=10)
            except subprocess.TimeoutExpired:
                redis.kill()
                redis.wait(timeout=10)
        cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
