#!/usr/bin/python3
"""How long one heavy command holds up every other client, next to redis-server in the same run.

A server is loaded with KEYS keys (16-byte names, 32-byte values), then each heavy command runs
while a probe client on its own connection SETs a key every millisecond. Reported per command:
its own time (ms, run by redis-cli) and the probe's worst SET latency while it ran (ms): the
stall every other client of that server saw. Systems, taking turns, ROUNDS times (the median is printed):
  redis   redis-server 7.0 (Debian's), --save '' (no persistence)
  cairn   one cairn-server, --storage memory
  cairn3  three cairn-servers (--storage memory), the command sent to the leader
Every process is started here on 127.0.0.1 and stopped by its PID; data directories live under
one temporary directory, removed at exit.

  /usr/bin/python3 bench/command-stall.py [--keys N] [--rounds R]   (defaults 1000000 and 3;
      needs build/tools/cairn-server/cairn-server, redis-server, and Debian's python3-redis;
      CAIRN_SERVER=path runs another cairn-server binary, for an A/B)
"""
import argparse, os, shutil, signal, statistics, subprocess, sys, tempfile, threading, time

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVER = os.environ.get("CAIRN_SERVER", os.path.join(ROOT, "build/tools/cairn-server/cairn-server"))
BASE = 17460  # ports BASE .. BASE+9

COMMANDS = [
    "KEYS *",
    "KEYS nomatch*",
    "SCAN 0 COUNT 100000000",
    "FLUSHALL",
]


def fail(procs, why):
    stop(procs)
    sys.exit(why)


def wait_ping(port, procs):
    for _ in range(300):
        try:
            if redis.Redis(port=port, socket_timeout=1).ping():
                return
        except redis.RedisError:
            pass
        if any(p.poll() is not None for p in procs):
            fail(procs, f"a server on port {port} exited")
        time.sleep(0.1)
    fail(procs, f"nothing answers PING on port {port}")


def start(system, tmp):
    """Starts one system; returns (its processes, the port to send commands to)."""
    logs = open(os.path.join(tmp, system + ".log"), "ab")
    if system == "redis":
        d = tempfile.mkdtemp(dir=tmp)
        p = subprocess.Popen(["redis-server", "--port", str(BASE), "--save", "", "--dir", d],
                             stdout=logs, stderr=logs)
        wait_ping(BASE, [p])
        return [p], BASE
    n = 3 if system == "cairn3" else 1
    peers = ",".join(f"{i}=127.0.0.1:{BASE + 1 + i}" for i in range(1, n + 1))
    procs = []
    data = tempfile.mkdtemp(dir=tmp)  # a fresh cluster each time
    for i in range(1, n + 1):
        args = [SERVER, "--id", str(i), "--listen", f"127.0.0.1:{BASE + 1 + i}",
                "--resp", f"127.0.0.1:{BASE + 5 + i}", "--storage", "memory", "--log-level", "warn",
                "--data-dir", os.path.join(data, str(i))]
        if n > 1:
            args += ["--peers", peers]
        procs.append(subprocess.Popen(args, stdout=logs, stderr=logs))
    for i in range(1, n + 1):
        wait_ping(BASE + 5 + i, procs)
    for _ in range(200):
        for i in range(1, n + 1):
            info = redis.Redis(port=BASE + 5 + i).info("replication")
            if info.get("raft_role", "leader") == "leader":
                return procs, BASE + 5 + i
        time.sleep(0.1)
    fail(procs, f"{system}: no leader")


def stop(procs):
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def load(port, keys):
    r = redis.Redis(port=port)
    pipe = r.pipeline(transaction=False)
    for i in range(keys):
        pipe.set(f"key:{i:012d}", "v" * 32)
        if i % 2000 == 1999:
            pipe.execute()
    pipe.execute()


def stall(port, command):
    """Runs `command` while a probe SETs every millisecond: (command ms, worst probe ms)."""
    done = threading.Event()
    worst = [0.0]
    started = threading.Event()

    def probe():
        r = redis.Redis(port=port)
        while not done.is_set():
            t = time.perf_counter()
            r.set("probe", "x")
            worst[0] = max(worst[0], time.perf_counter() - t)
            started.set()
            time.sleep(0.001)

    th = threading.Thread(target=probe)
    th.start()
    started.wait(10)
    time.sleep(0.1)
    worst[0] = 0.0
    # The command runs in redis-cli, another process: parsing a million-key answer in this one
    # would hold Python's interpreter lock and stall the probe thread instead of the server.
    t = time.perf_counter()
    subprocess.run(["redis-cli", "-p", str(port)] + command.split(), stdout=subprocess.DEVNULL,
                   check=True, timeout=300)
    took = time.perf_counter() - t
    time.sleep(0.1)  # a stall that starts as the command answers still counts
    done.set()
    th.join()
    return took * 1000, worst[0] * 1000


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    if a.keys < 1 or a.rounds < 1:
        sys.exit("--keys and --rounds must be at least 1")
    if not os.access(SERVER, os.X_OK):
        sys.exit(f"missing {SERVER} (ninja -C build cairn-server)")
    if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
        sys.exit("needs redis-server and redis-cli (apt-get install redis-server redis-tools)")
    systems = ["redis", "cairn", "cairn3"]
    results = {(s, c): [] for s in systems for c in COMMANDS}
    tmp = tempfile.mkdtemp(prefix="cairn-stall.")
    try:
        for rnd in range(a.rounds):
            for system in systems:
                procs, port = start(system, tmp)
                try:
                    for command in COMMANDS:
                        if redis.Redis(port=port).dbsize() < a.keys:
                            load(port, a.keys)
                        results[(system, command)].append(stall(port, command))
                finally:
                    stop(procs)
                print(f"round {rnd + 1}: {system} done", file=sys.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{a.keys} keys, {a.rounds} rounds; medians in ms: command time / worst probe SET")
    print("| command | " + " | ".join(systems) + " | worst probe, cairn / redis |")
    print("|---|" + "---|" * (len(systems) + 1))
    for command in COMMANDS:
        cells, probes = [], {}
        for system in systems:
            took = statistics.median(r[0] for r in results[(system, command)])
            probe = statistics.median(r[1] for r in results[(system, command)])
            probes[system] = probe
            cells.append(f"{took:.0f} / {probe:.1f}")
        ratio = probes["cairn"] / probes["redis"] if probes["redis"] > 0 else float("nan")
        print(f"| `{command}` | " + " | ".join(cells) + f" | {ratio:.2f}x |")


if __name__ == "__main__":
    main()
