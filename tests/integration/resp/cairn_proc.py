"""Starting and stopping cairn-server processes for the RESP integration tests.

Every process is started on free 127.0.0.1 ports with its own --data-dir under a temporary
directory, and stopped by its PID (SIGTERM, then SIGKILL after a bounded wait). Nothing here
touches a process it did not start. Every wait is bounded by a deadline.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def resp_command(port, *args, timeout=2.0):
    """Sends one multibulk command on a fresh connection and returns the raw reply bytes."""
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(out)
        data = b""
        while not data.endswith(b"\r\n") or (data[:1] in b"$*" and not complete_reply(data)):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return data


def complete_reply(data):
    """True when data holds one whole RESP2 reply (enough for INFO and simple answers)."""
    if data[:1] == b"$":
        head, _, rest = data.partition(b"\r\n")
        n = int(head[1:])
        return n < 0 or len(rest) >= n + 2
    return data.endswith(b"\r\n")


def info_fields(port, section="replication", timeout=2.0):
    raw = resp_command(port, "INFO", section, timeout=timeout)
    text = raw.split(b"\r\n", 1)[1].decode(errors="replace")
    fields = {}
    for line in text.splitlines():
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            fields[k] = v
    return fields



def rss_bytes(pid):
    """Resident memory of process `pid`, from /proc."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS for %d" % pid)

class Node:
    # Short ticks keep start-up and shutdown quick; the election timeout (1-2 s) is long because
    # these tests are about the Redis protocol, not elections: on a loaded machine under
    # sanitizers a 3 MiB write can hold a node thread past a 200 ms timeout, and the election
    # that follows would fail the write with "leadership changed" (the cluster tests cover that).
    def __init__(self, server, node_id, listen_port, resp_port, peers, data_dir, log, extra=(),
                 election_ticks=50):
        self.id = node_id
        self.listen_port = listen_port
        self.resp_port = resp_port
        args = [server, "--id", str(node_id), "--listen", "127.0.0.1:%d" % listen_port,
                "--resp", "127.0.0.1:%d" % resp_port, "--data-dir", data_dir,
                "--tick-ms", "20", "--election-ticks", str(election_ticks), "--log-level", "warn"]
        if peers:
            args += ["--peers", peers]
        args += list(extra)
        self.proc = subprocess.Popen(args, stdout=log, stderr=log)

    def stop(self, timeout=15.0):
        """Stops the process gracefully; returns its exit code (0 after a clean shutdown)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=timeout)
        return self.proc.returncode


class Cluster:
    """One node (size 1) or a cluster of `size` nodes, each answering RESP on its own port."""

    # A free port is found by binding port 0 and closing it, so a test running beside this one
    # may bind the same port first. A start that fails that way is tried again on other ports.
    START_ATTEMPTS = 3

    def __init__(self, server, size=1, extra=(), election_ticks=50):
        self.dir = tempfile.mkdtemp(prefix="cairn-resp-test-")
        self.log = open(os.path.join(self.dir, "servers.log"), "wb")
        self.nodes = []
        for attempt in range(1, self.START_ATTEMPTS + 1):
            try:
                self.start(server, size, extra, election_ticks, attempt)
                return
            except RuntimeError:
                if attempt == self.START_ATTEMPTS or not self.port_was_taken():
                    self.stop()
                    raise
                for n in self.nodes:
                    n.stop()
                self.log.write(b"--- a port was taken by another process: starting again\n")
            except BaseException:
                self.stop()
                raise

    def start(self, server, size, extra, election_ticks, attempt):
        ports = [(free_port(), free_port()) for _ in range(size)]
        peers = ",".join("%d=127.0.0.1:%d" % (i + 1, p[0]) for i, p in enumerate(ports)) \
            if size > 1 else ""
        self.nodes = []
        for i, (listen, resp) in enumerate(ports):
            data = os.path.join(self.dir, "start-%d" % attempt, "node-%d" % (i + 1))
            self.nodes.append(Node(server, i + 1, listen, resp, peers, data, self.log,
                                   extra, election_ticks))
        self.leader_id = self.wait_for_leader()

    def port_was_taken(self):
        self.log.flush()
        with open(os.path.join(self.dir, "servers.log"), "rb") as f:
            return b"Address already in use" in f.read()

    def wait_for_leader(self, deadline_s=20.0):
        """Polls INFO replication on every node until all agree on one leader."""
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            seen = set()
            try:
                for n in self.nodes:
                    if n.proc.poll() is not None:
                        raise RuntimeError("cairn-server %d exited with %d; log in %s" %
                                           (n.id, n.proc.returncode, self.dir))
                    seen.add(int(info_fields(n.resp_port).get("raft_leader_id", "0")))
            except (OSError, ValueError, IndexError):
                seen = {0}
            if len(seen) == 1 and 0 not in seen:
                return seen.pop()
            time.sleep(0.05)
        raise RuntimeError("no leader within %.0f s; log in %s" % (deadline_s, self.dir))

    def node(self, node_id):
        return next(n for n in self.nodes if n.id == node_id)

    def follower(self):
        return next(n for n in self.nodes if n.id != self.leader_id)

    def stop(self):
        """Stops every node; a node that did not shut down cleanly (a crash, a sanitizer report)
        fails the run and its log is kept."""
        codes = {n.id: n.stop() for n in self.nodes}
        self.log.close()
        bad = {i: c for i, c in codes.items() if c != 0}
        if bad:
            with open(os.path.join(self.dir, "servers.log"), "rb") as f:
                sys.stderr.write(f.read()[-20000:].decode(errors="replace"))
            raise RuntimeError("cairn-server exit codes %s; log in %s" % (bad, self.dir))
        shutil.rmtree(self.dir, ignore_errors=True)
