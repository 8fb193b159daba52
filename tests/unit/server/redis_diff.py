#!/usr/bin/python3
"""Differential check of the RESP request parser against a live redis-server.

Generates random inline lines (words, both kinds of quotes, escapes, odd whitespace) and random
multibulk streams (valid and broken count lines, bulk headers and data), feeds each to a private
redis-server and to server_resp_dump (our parser), and compares what the client gets back:

- each request we parse must get the reply Redis gives an unknown command with those arguments
  (the random names are never real commands), which echoes the arguments as Redis split them;
- a stream we reject must get exactly our error text from Redis, and only such a stream may be
  closed by Redis;
- a stream we leave incomplete must get no further reply.

Streams avoid NUL bytes and the 64 KiB limits, where we differ from Redis on purpose (docs/resp.md).

  ninja -C build server_resp_dump
  /usr/bin/python3 tests/unit/server/redis_diff.py build/tests/unit/server/server_resp_dump [N]

Starts its own redis-server on a free port of 127.0.0.1 (or REDIS_PORT) and stops it at the end. Exits 1
on any difference, 2 if redis-server cannot be started.
"""
import concurrent.futures
import os
import random
import socket
import subprocess
import sys
import time



def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# A private server on a free port, so no one else's redis-server is touched.
PORT = int(os.environ.get("REDIS_PORT", "0")) or free_port()


def fail_setup(message):
    print("redis_diff: " + message, file=sys.stderr)
    sys.exit(2)


def start_redis():
    try:
        socket.create_connection(("127.0.0.1", PORT), timeout=0.1).close()
        fail_setup("port %d is in use; set REDIS_PORT" % PORT)
    except OSError:
        pass
    proc = subprocess.Popen(
        ["redis-server", "--port", str(PORT), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", PORT), timeout=0.1).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    fail_setup("cannot start redis-server on port %d" % PORT)


def ask_redis(data):
    """Sends `data`, returns (reply bytes, whether Redis closed the connection)."""
    s = socket.create_connection(("127.0.0.1", PORT))
    s.sendall(data)
    s.settimeout(0.3)
    out, closed = b"", False
    try:
        while True:
            d = s.recv(4096)
            if not d:
                closed = True
                break
            out += d
    except socket.timeout:
        pass
    s.close()
    return out, closed


def unknown_command(args):
    """Redis 7.0's reply to an unknown command with these arguments."""
    e = b"-ERR unknown command '" + args[0][:128] + b"', with args beginning with: "
    acc = b""
    for a in args[1:]:
        if len(acc) >= 128:
            break
        acc += b"'" + a[:128 - len(acc)] + b"' "
    return (e + acc).replace(b"\r", b" ").replace(b"\n", b" ") + b"\r\n"


def expected(ours):
    """What a client should receive, from server_resp_dump's line; and whether it ends in error."""
    out, failed = b"", False
    for item in ours.split(b"|"):
        if item.startswith(b"C"):
            out += unknown_command([bytes.fromhex(a[1:].decode()) for a in item[1:].split()])
        elif item.startswith(b"E"):
            out += b"-" + item[1:] + b"\r\n"
            failed = True
    return out, failed


def inline_streams(rng, n):
    alphabet = ["a", "b", "x", "4", "F", "g", " ", " ", "\t", '"', '"', "'", "'", "\\", "\\",
                "\\x", "n", "r", "\r", "\x0b", "\x0c", "0"]
    return [("XX " + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14))) + "\r\n")
            .encode("latin1") for _ in range(n)]


def multibulk_streams(rng, n):
    pieces = [b"*", b"$", b"1", b"2", b"3", b"0", b"-", b"\r\n", b"\r\n", b"\r", b"\n", b"ab",
              b"x", b"*1\r\n", b"$2\r\n", b"*2\r\n$2\r\nXX\r\n", b"$3\r\nabc\r\n", b" ", b"00"]
    return [b"*" + rng.choice([b"1", b"2", b"3", b""]) + rng.choice([b"\r\n", b"\r\n", b""]) +
            rng.choice([b"", b"$1\r\nX\r\n", b"$"]) +
            b"".join(rng.choice(pieces) for _ in range(rng.randint(1, 10))) for _ in range(n)]


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    dump = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    rng = random.Random(1)
    streams = inline_streams(rng, n) + multibulk_streams(rng, n)
    ours = subprocess.run([dump], input=b"".join(s.hex().encode() + b"\n" for s in streams),
                          capture_output=True, check=True).stdout.split(b"\n")
    redis = start_redis()
    try:
        with concurrent.futures.ThreadPoolExecutor(32) as pool:
            theirs = list(pool.map(ask_redis, streams))
    finally:
        redis.terminate()
        redis.wait()
    differences = 0
    for stream, mine, (got, closed) in zip(streams, ours, theirs):
        want, failed = expected(mine)
        if got != want or closed != failed:
            differences += 1
            if differences <= 10:
                print("stream %r\n  ours:  %r%s\n  redis: %r%s" % (
                    stream, want, " (closed)" if failed else "", got, " (closed)" if closed else ""))
    print("redis_diff: %d streams, %d differences" % (len(streams), differences))
    sys.exit(1 if differences else 0)


if __name__ == "__main__":
    main()
