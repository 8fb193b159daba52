"""redis-cli against cairn-server, used as a person would: an interactive session (through a
pseudo-terminal, so redis-cli sends its start-up COMMAND DOCS and offers help from it), one-shot
commands, and --pipe mass insertion of 10000 keys followed by DBSIZE.

  /usr/bin/python3 redis_cli_test.py --server build/tools/cairn-server/cairn-server
"""

import argparse
import os
import pty
import select
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cairn_proc  # noqa: E402

PORT = None


def cli(*args, stdin=None):
    out = subprocess.run(["redis-cli", "-p", str(PORT)] + list(args), input=stdin,
                         capture_output=True, timeout=60)
    return out.stdout.decode(errors="replace")


class RedisCli(unittest.TestCase):
    def test_one_shot_commands(self):
        self.assertEqual(cli("FLUSHALL"), "OK\n")
        self.assertEqual(cli("SET", "greeting", "hello world"), "OK\n")
        self.assertEqual(cli("GET", "greeting"), "hello world\n")
        self.assertEqual(cli("INCRBY", "n", "5"), "5\n")
        self.assertEqual(cli("GET", "missing"), "\n")
        self.assertIn("raft_role:leader", cli("INFO", "replication"))
        self.assertEqual(cli("-3", "GET", "greeting"), "hello world\n")
        self.assertEqual(cli("CAS", "greeting", "hello world", "bye"), "1\n")

    def test_pipe_mass_insertion(self):
        cli("FLUSHALL")
        n = 10000
        payload = b"".join(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" %
                           (len(k), k, len(v), v)
                           for k, v in ((b"key:%05d" % i, b"value:%d" % i) for i in range(n)))
        out = cli("--pipe", stdin=payload)
        self.assertIn("errors: 0, replies: %d" % n, out)
        self.assertEqual(cli("DBSIZE"), "%d\n" % n)
        self.assertEqual(cli("GET", "key:04242"), "value:4242\n")

    def test_interactive_session(self):
        pid, fd = pty.fork()
        if pid == 0:
            # A dumb terminal: linenoise then reads plain lines instead of asking for the cursor.
            os.environ["TERM"] = "dumb"
            os.execvp("redis-cli", ["redis-cli", "-p", str(PORT)])
        try:
            out = self.converse(fd, [b"set who cairn\r", b"get who\r", b"help cas\r",
                                     b"hello 3\r", b"get who\r", b"quit\r"])
        finally:
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
            os.waitpid(pid, 0)
            os.close(fd)
        self.assertIn("OK", out)
        self.assertIn('"cairn"', out)
        # `help cas` can only know CAS from the COMMAND DOCS reply redis-cli asked for at start.
        self.assertIn("only if it holds exactly the expected value", out)
        self.assertIn("proto", out)

    def converse(self, fd, lines, deadline_s=20.0):
        """Types each line once the prompt is back; returns everything the terminal showed."""
        out = b""
        end = time.monotonic() + deadline_s
        prompt = b"127.0.0.1:%d> " % PORT
        sent = 0
        while time.monotonic() < end:
            r, _, _ = select.select([fd], [], [], 0.2)
            if r:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
            if out.count(prompt) > sent and sent < len(lines):
                os.write(fd, lines[sent])
                sent += 1
            elif sent == len(lines) and not r:
                break
        return out.decode(errors="replace")


def main():
    global PORT
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    args, rest = ap.parse_known_args()
    cluster = cairn_proc.Cluster(args.server, 1)
    try:
        PORT = cluster.nodes[0].resp_port
        prog = unittest.main(argv=[sys.argv[0]] + rest, exit=False, verbosity=2)
        return 0 if prog.result.wasSuccessful() else 1
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
