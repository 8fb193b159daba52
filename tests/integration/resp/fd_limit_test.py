#!/usr/bin/python3
"""cairn-server under a low open-file limit (ulimit -n 128) with the default --max-connections:
it lowers the connection limit to fit and says so, as redis-server lowers maxclients; every Redis
client past the limit hears "-ERR max number of clients reached" (Redis's words) instead of a
silent close or a timeout; the clients within the limit keep their connections; after they close,
a new client is served; and the server does not flood its log (before: the accept loop spun on
"too many open files" at 100% CPU, millions of lines in seconds).

    /usr/bin/python3 tests/integration/resp/fd_limit_test.py --server build/tools/cairn-server/cairn-server
"""

import argparse
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cairn_proc  # noqa: E402

LIMIT = 128
CLIENTS = 120


def pong_within(port, seconds):
    """True once a new client's PING is answered, polling for at most `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if cairn_proc.resp_command(port, "PING") == b"+PONG\r\n":
                return True
        except OSError:
            pass
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="cairn-fd-limit-")
    log_path = os.path.join(tmp, "server.log")
    listen, resp = cairn_proc.free_port(), cairn_proc.free_port()

    def low_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (LIMIT, LIMIT))

    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [args.server, "--listen", "127.0.0.1:%d" % listen, "--resp", "127.0.0.1:%d" % resp,
             "--data-dir", os.path.join(tmp, "data"), "--log-level", "info"],
            stdout=log, stderr=log, preexec_fn=low_limit)
    problems = []
    socks = []
    try:
        if not pong_within(resp, 20):
            raise RuntimeError("the server never answered PING")
        for _ in range(CLIENTS):
            socks.append(socket.create_connection(("127.0.0.1", resp), timeout=5))
        # Each client asks; within the limit it is answered, past it it hears why it is refused.
        full = served = 0
        for s in socks:
            s.sendall(b"PING\r\n")
            data = b""
            while not data.endswith(b"\r\n"):
                chunk = s.recv(100)
                if not chunk:
                    break
                data += chunk
            if data == b"-ERR max number of clients reached\r\n":
                full += 1
            elif data == b"+PONG\r\n":
                served += 1
            else:
                problems.append("a client got %r" % data)
        if full == 0:
            problems.append("no client heard 'max number of clients reached'")
        if served == 0:
            problems.append("no client was served")
        if full + served != CLIENTS:
            problems.append("%d clients, %d served, %d refused" % (CLIENTS, served, full))
        for s in socks:
            s.close()
        socks = []
        if not pong_within(resp, 20):
            problems.append("no client served after the others closed")
        print("%d clients: %d served, %d told the server is full" % (CLIENTS, served, full))
    finally:
        for s in socks:
            s.close()
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait(timeout=20)
        if rc != 0:
            problems.append("exit code %d" % rc)
    with open(log_path, errors="replace") as f:
        lines = f.read().splitlines()
    if not any("open-file limit is %d" % LIMIT in line and "lowered to" in line
               for line in lines):
        problems.append("no warning that --max-connections was lowered to fit the limit")
    if len(lines) > 50:
        problems.append("%d log lines (a flood): %s" % (len(lines), lines[-3:]))
    if problems:
        for p in problems:
            print("FAIL:", p)
        print("log in", log_path)
        return 1
    shutil.rmtree(tmp, ignore_errors=True)
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
