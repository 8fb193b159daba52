#!/usr/bin/python3
"""Clients that announce a 512 MB bulk string and send one byte of it must cost the server what
they sent, not what they announced (before: about 4 MiB each, as the read buffer was sized toward
the announced length; 1000 such connections held 5.2 GB). Here 300 of them may add at most
1 MiB of resident memory each, a bound the old sizing breaks four times over, and another client
is still answered meanwhile.

    /usr/bin/python3 tests/integration/resp/half_sent_bulk_test.py --server build/tools/cairn-server/cairn-server
"""

import argparse
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cairn_proc  # noqa: E402

CONNECTIONS = 300
BOUND_PER_CONNECTION = 1 << 20


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    args = ap.parse_args()
    cluster = cairn_proc.Cluster(args.server, size=1)
    problems = []
    socks = []
    try:
        pid = cluster.nodes[0].proc.pid
        port = cluster.nodes[0].resp_port
        request = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870912\r\nx"
        input_before = int(cairn_proc.info_fields(port, "stats")["total_net_input_bytes"])
        before = cairn_proc.rss_bytes(pid)
        for _ in range(CONNECTIONS):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(request)
            socks.append(s)
        # Measured once the server has read every byte sent (INFO's input counter says so).
        deadline = time.monotonic() + 30
        while True:
            fields = cairn_proc.info_fields(port, "stats")
            read = int(fields["total_net_input_bytes"]) - input_before
            if read >= CONNECTIONS * len(request):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("the server read %d of %d bytes" %
                                   (read, CONNECTIONS * len(request)))
            time.sleep(0.05)
        if cairn_proc.resp_command(port, "PING", timeout=10) != b"+PONG\r\n":
            problems.append("another client was not answered")
        grown = cairn_proc.rss_bytes(pid) - before
        print("%d half-sent 512 MB bulks: resident memory grew %.1f MB (%.0f KB each)" %
              (CONNECTIONS, grown / 1e6, grown / CONNECTIONS / 1e3))
        if grown > CONNECTIONS * BOUND_PER_CONNECTION:
            problems.append("resident memory grew %d bytes, over %d per connection" %
                            (grown, BOUND_PER_CONNECTION))
    finally:
        for s in socks:
            s.close()
        try:
            cluster.stop()
        except RuntimeError as e:
            problems.append(str(e))
    for p in problems:
        print("FAIL:", p)
    print("ok" if not problems else "%d problem(s)" % len(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
