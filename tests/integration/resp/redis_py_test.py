"""Every command cairn serves, through redis-py, against a real cairn-server.

  /usr/bin/python3 redis_py_test.py --server build/tools/cairn-server/cairn-server --mode single
  ... --mode threads     the single node serving Redis clients from two I/O threads of its own
  ... --mode follower    a 3-node cluster, every request sent to a follower
  ... --mode redis       the same expectations against redis-server (to check the test itself)

redis-py comes from Debian's python3-redis (importable by /usr/bin/python3). Each run starts its
own processes on free ports and stops them by PID. Waits are polls with deadlines.
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import redis

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cairn_proc  # noqa: E402

PORT = None
MODE = None


def client(**kw):
    return redis.Redis(host="127.0.0.1", port=PORT, socket_timeout=10, **kw)


def raw(data, read_until_close=False, timeout=5.0):
    """Sends raw bytes and returns what comes back (until close, or the first pause)."""
    with socket.create_connection(("127.0.0.1", PORT), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        deadline = time.monotonic() + timeout
        s.settimeout(0.3 if not read_until_close else timeout)
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                if out and not read_until_close:
                    break
                continue
            if not chunk:
                break
            out += chunk
        return out


def poll(fn, deadline_s=5.0):
    """Calls fn until it returns a true value or the deadline passes; returns the last value."""
    end = time.monotonic() + deadline_s
    v = fn()
    while not v and time.monotonic() < end:
        time.sleep(0.02)
        v = fn()
    return v


class Base(unittest.TestCase):
    def setUp(self):
        self.r = client()
        self.r.flushall()

    def tearDown(self):
        self.r.close()

    def err(self, fn, text):
        with self.assertRaises(redis.ResponseError) as cm:
            fn()
        self.assertEqual(str(cm.exception), text)


class Strings(Base):
    def test_get_set(self):
        r = self.r
        self.assertIsNone(r.get("k"))
        self.assertTrue(r.set("k", "v"))
        self.assertEqual(r.get("k"), b"v")
        self.assertEqual(r.set("k", b"\x00\r\nbin"), True)
        self.assertEqual(r.get("k"), b"\x00\r\nbin")

    def test_set_options(self):
        r = self.r
        self.assertIsNone(r.set("k", "1", xx=True))
        self.assertTrue(r.set("k", "1", nx=True))
        self.assertIsNone(r.set("k", "2", nx=True))
        self.assertTrue(r.set("k", "3", xx=True))
        self.assertEqual(r.set("k", "4", get=True), b"3")
        self.assertTrue(r.set("k", "5", ex=100))
        self.assertTrue(95 <= r.ttl("k") <= 100)
        self.assertTrue(r.set("k", "6", keepttl=True))
        self.assertTrue(95 <= r.ttl("k") <= 100)
        self.assertTrue(r.set("k", "7", px=50000))
        self.assertTrue(45000 <= r.pttl("k") <= 50000)
        at = int(time.time()) + 1000
        self.assertTrue(r.set("k", "8", exat=at))
        self.assertEqual(r.expiretime("k") if hasattr(r, "expiretime")
                         else r.execute_command("EXPIRETIME", "k"), at)
        self.assertTrue(r.set("k", "9", pxat=at * 1000 + 500))
        self.assertTrue(r.set("k", "10"))
        self.assertEqual(r.ttl("k"), -1)
        self.err(lambda: r.execute_command("SET", "k", "v", "NX", "XX"), "syntax error")
        self.err(lambda: r.execute_command("SET", "k", "v", "EX", "1", "PX", "1"), "syntax error")
        self.err(lambda: r.execute_command("SET", "k", "v", "EX"), "syntax error")
        self.err(lambda: r.execute_command("SET", "k", "v", "EX", "0"),
                 "invalid expire time in 'set' command")
        self.err(lambda: r.execute_command("SET", "k", "v", "EX", "x"),
                 "value is not an integer or out of range")
        self.err(lambda: r.execute_command("SET", "k"),
                 "wrong number of arguments for 'set' command")

    def test_setnx_setex_psetex_getset(self):
        r = self.r
        self.assertTrue(r.setnx("k", "1"))
        self.assertFalse(r.setnx("k", "2"))
        self.assertTrue(r.setex("e", 100, "v"))
        self.assertTrue(95 <= r.ttl("e") <= 100)
        self.assertTrue(r.psetex("p", 100000, "v"))
        self.assertTrue(95000 <= r.pttl("p") <= 100000)
        self.err(lambda: r.setex("e", 0, "v"), "invalid expire time in 'setex' command")
        self.err(lambda: r.psetex("e", -5, "v"), "invalid expire time in 'psetex' command")
        self.assertEqual(r.getset("k", "3"), b"1")
        self.assertIsNone(r.getset("new", "x"))
        self.assertEqual(r.get("k"), b"3")

    def test_getdel_getex(self):
        r = self.r
        r.set("k", "v")
        self.assertEqual(r.getdel("k"), b"v")
        self.assertIsNone(r.getdel("k"))
        r.set("k", "v")
        self.assertEqual(r.getex("k", ex=100), b"v")
        self.assertTrue(95 <= r.ttl("k") <= 100)
        self.assertEqual(r.getex("k", persist=True), b"v")
        self.assertEqual(r.ttl("k"), -1)
        self.assertEqual(r.getex("k", px=100000), b"v")
        self.assertEqual(r.getex("k"), b"v")
        self.assertTrue(r.ttl("k") > 90)
        self.assertIsNone(r.getex("missing"))
        self.err(lambda: r.execute_command("GETEX", "k", "EX", "0"),
                 "invalid expire time in 'getex' command")
        self.err(lambda: r.execute_command("GETEX", "k", "PERSIST", "EX", "5"), "syntax error")

    def test_mget_mset_msetnx(self):
        r = self.r
        self.assertTrue(r.mset({"a": "1", "b": "2"}))
        self.assertEqual(r.mget("a", "b", "c"), [b"1", b"2", None])
        self.assertFalse(r.msetnx({"b": "x", "c": "3"}))
        self.assertIsNone(r.get("c"))
        self.assertTrue(r.msetnx({"c": "3", "d": "4"}))
        self.assertEqual(r.mget("c", "d"), [b"3", b"4"])
        self.err(lambda: r.execute_command("MSET", "a", "1", "b"),
                 "wrong number of arguments for 'mset' command")
        self.err(lambda: r.execute_command("MSETNX", "a"),
                 "wrong number of arguments for 'msetnx' command")

    def test_counters(self):
        r = self.r
        self.assertEqual(r.incr("n"), 1)
        self.assertEqual(r.incrby("n", 10), 11)
        self.assertEqual(r.decr("n"), 10)
        self.assertEqual(r.decrby("n", 4), 6)
        self.assertEqual(r.incrbyfloat("f", 1.5), 1.5)
        self.assertEqual(r.execute_command("INCRBYFLOAT", "f", "0.1"), 1.6)
        self.assertEqual(raw(b"INCRBYFLOAT f 0.1\r\n"), b"$3\r\n1.7\r\n")
        r.set("s", "abc")
        self.err(lambda: r.incr("s"), "value is not an integer or out of range")
        self.err(lambda: r.incrbyfloat("s", 1), "value is not a valid float")
        self.err(lambda: r.execute_command("INCRBY", "n", "x"),
                 "value is not an integer or out of range")
        r.set("big", str(2**63 - 1))
        self.err(lambda: r.incr("big"), "increment or decrement would overflow")
        self.err(lambda: r.execute_command("DECRBY", "n", str(-2**63)),
                 "decrement would overflow")

    def test_append_strlen_ranges(self):
        r = self.r
        self.assertEqual(r.append("k", "Hello"), 5)
        self.assertEqual(r.append("k", " World"), 11)
        self.assertEqual(r.strlen("k"), 11)
        self.assertEqual(r.strlen("none"), 0)
        self.assertEqual(r.getrange("k", 0, 4), b"Hello")
        self.assertEqual(r.getrange("k", -5, -1), b"World")
        self.assertEqual(r.getrange("none", 0, 10), b"")
        self.assertEqual(r.setrange("k", 6, "Redis"), 11)
        self.assertEqual(r.get("k"), b"Hello Redis")
        self.assertEqual(r.setrange("pad", 3, "x"), 4)
        self.assertEqual(r.get("pad"), b"\x00\x00\x00x")
        self.err(lambda: r.setrange("k", -1, "x"), "offset is out of range")
        self.err(lambda: r.execute_command("GETRANGE", "k", "a", "1"),
                 "value is not an integer or out of range")

    def test_bitmaps(self):
        r = self.r
        self.assertEqual(r.setbit("b", 7, 1), 0)
        self.assertEqual(r.setbit("b", 7, 1), 1)
        self.assertEqual(r.get("b"), b"\x01")
        self.assertEqual(r.getbit("b", 7), 1)
        self.assertEqual(r.getbit("b", 1000), 0)
        self.assertEqual(r.setbit("b", 23, 1), 0)  # grows with zero bytes
        self.assertEqual(r.get("b"), b"\x01\x00\x01")
        self.assertEqual(r.bitcount("b"), 2)
        self.assertEqual(r.bitcount("b", 1, -1), 1)
        self.assertEqual(r.execute_command("BITCOUNT", "b", 0, 7, "BIT"), 1)
        self.assertEqual(r.bitpos("b", 1), 7)
        self.assertEqual(r.bitpos("b", 0), 0)
        self.assertEqual(r.bitpos("b", 1, 1), 23)
        self.assertEqual(r.bitpos("none", 1), -1)
        self.assertEqual(r.bitpos("none", 0), 0)
        r.set("x", b"\xf0")
        self.assertEqual(r.bitop("AND", "d", "b", "x"), 3)
        self.assertEqual(r.get("d"), b"\x00\x00\x00")
        self.assertEqual(r.bitop("NOT", "d", "x"), 1)
        self.assertEqual(r.get("d"), b"\x0f")
        self.assertEqual(r.bitop("OR", "d", "none"), 0)
        self.assertEqual(r.exists("d"), 0)  # an empty result deletes the destination
        self.err(lambda: r.setbit("b", 2**32, 1), "bit offset is not an integer or out of range")
        self.err(lambda: r.execute_command("SETBIT", "b", 0, 2),
                 "bit is not an integer or out of range")
        self.err(lambda: r.execute_command("BITPOS", "b", 2), "The bit argument must be 1 or 0.")
        self.err(lambda: r.bitop("NOT", "d", "b", "x"),
                 "BITOP NOT must be called with a single source key.")
        self.err(lambda: r.execute_command("BITCOUNT", "b", 0), "syntax error")
        bf = r.bitfield("f")
        self.assertEqual(bf.set("u8", 0, 255).incrby("u8", 0, 10).overflow("FAIL")
                         .incrby("u8", 0, 250).get("i4", "#1").execute(), [0, 9, None, -7])
        self.assertEqual(r.execute_command("BITFIELD_RO", "f", "GET", "u8", 0), [9])
        self.err(lambda: r.execute_command("BITFIELD_RO", "f", "SET", "u8", 0, 1),
                 "BITFIELD_RO only supports the GET subcommand")
        self.err(lambda: r.execute_command("BITFIELD", "f", "GET", "u64", 0),
                 "Invalid bitfield type. Use something like i16 u8. Note that u64 is not "
                 "supported but i64 is.")

    def test_lcs(self):
        r = self.r
        r.mset({"a": "ohmytext", "b": "mynewtext"})
        self.assertEqual(r.execute_command("LCS", "a", "b"), b"mytext")
        self.assertEqual(r.execute_command("LCS", "a", "b", "LEN"), 6)
        self.assertEqual(r.execute_command("LCS", "a", "b", "IDX", "MINMATCHLEN", 4,
                                           "WITHMATCHLEN"),
                         [b"matches", [[[4, 7], [5, 8], 4]], b"len", 6])
        self.assertEqual(r.execute_command("LCS", "a", "none", "LEN"), 0)
        self.err(lambda: r.execute_command("LCS", "a", "b", "LEN", "IDX"),
                 "If you want both the length and indexes, please just use IDX.")
        r.set("big1", "a" * 20000)
        r.set("big2", "b" * 20000)
        self.err(lambda: r.execute_command("LCS", "big1", "big2"),
                 "Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")

    def test_large_value(self):
        v = os.urandom(3 * 1024 * 1024)
        self.assertTrue(self.r.set("big", v))
        self.assertEqual(self.r.get("big"), v)
        self.assertEqual(self.r.strlen("big"), len(v))


class Keys(Base):
    def test_del_unlink_exists_type(self):
        r = self.r
        r.mset({"a": "1", "b": "2", "c": "3"})
        self.assertEqual(r.exists("a", "b", "x", "a"), 3)
        self.assertEqual(r.delete("a", "x"), 1)
        self.assertEqual(r.unlink("b", "c"), 2)
        self.assertEqual(r.exists("a", "b", "c"), 0)
        r.set("s", "v")
        self.assertEqual(r.type("s"), b"string")
        self.assertEqual(r.type("none"), b"none")

    def test_expire_family(self):
        r = self.r
        r.set("k", "v")
        self.assertFalse(r.expire("missing", 10))
        self.assertTrue(r.expire("k", 100))
        self.assertTrue(95 <= r.ttl("k") <= 100)
        self.assertFalse(r.expire("k", 50, nx=True))
        self.assertTrue(r.expire("k", 200, gt=True))
        self.assertFalse(r.expire("k", 100, gt=True))
        self.assertTrue(r.expire("k", 100, lt=True))
        self.assertTrue(r.pexpire("k", 300000, xx=True))
        self.assertTrue(295 <= r.ttl("k") <= 300)
        at = int(time.time()) + 500
        self.assertTrue(r.expireat("k", at))
        self.assertEqual(r.execute_command("EXPIRETIME", "k"), at)
        self.assertTrue(r.pexpireat("k", at * 1000 + 100000))
        self.assertEqual(r.execute_command("EXPIRETIME", "k"), at + 100)
        self.assertTrue(r.persist("k"))
        self.assertFalse(r.persist("k"))
        self.assertEqual(r.ttl("k"), -1)
        self.assertEqual(r.ttl("missing"), -2)
        self.assertEqual(r.pttl("missing"), -2)
        self.assertEqual(r.execute_command("EXPIRETIME", "k"), -1)
        self.assertEqual(r.execute_command("EXPIRETIME", "missing"), -2)
        self.err(lambda: r.execute_command("EXPIRE", "k", "10", "NX", "XX"),
                 "NX and XX, GT or LT options at the same time are not compatible")
        self.err(lambda: r.execute_command("EXPIRE", "k", "10", "GT", "LT"),
                 "GT and LT options at the same time are not compatible")
        self.err(lambda: r.execute_command("EXPIRE", "k", "10", "FOO"), "Unsupported option FOO")
        self.err(lambda: r.execute_command("EXPIRE", "k", "ten"),
                 "value is not an integer or out of range")
        # A time in the past deletes the key.
        self.assertTrue(r.pexpire("k", -1))
        self.assertIsNone(r.get("k"))

    def test_expiry_happens(self):
        r = self.r
        r.set("k", "v", px=200)
        self.assertTrue(poll(lambda: r.get("k") is None, 10.0))
        self.assertEqual(r.exists("k"), 0)

    def test_expiry_is_precise_on_an_idle_server(self):
        # Nothing else is written meanwhile: no entry moves a cluster's clock but the read itself.
        r = self.r
        for i in range(5):
            r.psetex("short%d" % i, 100, "v")
            time.sleep(0.15)
            self.assertIsNone(r.get("short%d" % i), "read 50 ms past its deadline")

    def test_rename_copy_touch_pexpiretime(self):
        r = self.r
        self.err(lambda: r.rename("nokey", "b"), "no such key")
        self.err(lambda: r.renamenx("nokey", "nokey"), "no such key")
        r.set("a", "1", px=100000)
        self.assertTrue(r.rename("a", "a"))
        self.assertEqual(r.renamenx("a", "a"), 0)
        r.set("b", "old")
        self.assertEqual(r.renamenx("a", "b"), 0)
        self.assertTrue(r.rename("a", "b"))
        self.assertIsNone(r.get("a"))
        self.assertEqual(r.get("b"), b"1")
        self.assertTrue(90000 < r.pttl("b") <= 100000)
        self.assertEqual(r.renamenx("b", "c"), 1)
        self.assertEqual(r.execute_command("COPY", "c", "d"), 1)
        self.assertEqual(r.execute_command("COPY", "c", "d"), 0)
        self.assertEqual(r.execute_command("COPY", "nokey", "e"), 0)
        r.set("d", "other")
        self.assertEqual(r.execute_command("COPY", "c", "d", "REPLACE"), 1)
        self.assertEqual(r.get("d"), b"1")
        self.assertTrue(90000 < r.pttl("d") <= 100000)
        self.assertEqual(r.execute_command("COPY", "c", "f", "DB", "0", "REPLACE", "REPLACE"), 1)
        self.err(lambda: r.execute_command("COPY", "c", "c"),
                 "source and destination objects are the same")
        self.err(lambda: r.execute_command("COPY", "c", "g", "DB", "x"),
                 "value is not an integer or out of range")
        self.err(lambda: r.execute_command("COPY", "c", "g", "DB", "100"),
                 "DB index is out of range")
        self.err(lambda: r.execute_command("COPY", "c", "g", "FOO"), "syntax error")
        self.err(lambda: r.execute_command("COPY", "c"),
                 "wrong number of arguments for 'copy' command")
        self.err(lambda: r.execute_command("RENAME", "c"),
                 "wrong number of arguments for 'rename' command")
        self.assertEqual(r.touch("c", "d", "nokey", "c"), 3)
        expire_at = r.execute_command("PEXPIRETIME", "c")
        self.assertEqual(r.execute_command("EXPIRETIME", "c"), (expire_at + 500) // 1000)
        self.assertEqual(r.execute_command("PEXPIRETIME", "f"), expire_at)
        r.set("p", "v")
        self.assertEqual(r.execute_command("PEXPIRETIME", "p"), -1)
        self.assertEqual(r.execute_command("PEXPIRETIME", "nokey"), -2)

    def test_keys_scan_randomkey_dbsize(self):
        r = self.r
        self.assertIsNone(r.randomkey())
        self.assertEqual(r.dbsize(), 0)
        names = {("user:%d" % i).encode() for i in range(50)} | {b"other"}
        r.mset({n: "v" for n in names})
        self.assertEqual(r.dbsize(), 51)
        self.assertEqual(set(r.keys("user:*")), names - {b"other"})
        self.assertEqual(r.keys("nomatch*"), [])
        self.assertIn(r.randomkey(), names)
        self.assertEqual(set(r.scan_iter(match="user:*", count=7)), names - {b"other"})
        self.assertEqual(set(r.scan_iter()), names)
        self.assertEqual(set(r.scan_iter(_type="string")), names)
        cursor, keys = r.scan(0, _type="hash")
        self.assertEqual(keys, [])
        self.err(lambda: r.execute_command("SCAN", "x"), "invalid cursor")
        self.err(lambda: r.execute_command("SCAN", "0", "COUNT", "0"), "syntax error")
        self.err(lambda: r.execute_command("SCAN", "0", "FOO"), "syntax error")

    def test_keys_over_a_large_keyspace(self):
        # 70,000 keys: past the size cairn reads at once, so KEYS walks in steps. Every key is
        # returned once, and a pipeline keeps its order: the write before KEYS is in its answer,
        # the write after is not, and the GET after sees that write.
        r = self.r
        n = 70000
        p = r.pipeline(transaction=False)
        for i in range(0, n, 1000):
            p.mset({"big:%d" % j: "v" for j in range(i, i + 1000)})
        p.execute()
        p = r.pipeline(transaction=False)
        p.set("before", "1")
        p.keys("*")
        p.set("after", "2")
        p.get("after")
        p.keys("big:6999*")
        res = p.execute()
        keys = res[1]
        self.assertEqual(len(keys), n + 1)
        self.assertEqual(len(set(keys)), n + 1)
        self.assertIn(b"before", keys)
        self.assertNotIn(b"after", keys)
        self.assertEqual(res[3], b"2")
        self.assertEqual(sorted(res[4]), sorted([b"big:6999"] + [b"big:6999%d" % d for d in range(10)]))
        # A flush of that many keys frees them off the node thread; the keyspace is empty at once.
        self.assertTrue(r.flushall())
        self.assertEqual(r.dbsize(), 0)
        self.assertEqual(r.keys("*"), [])
        self.assertEqual(poll(lambda: r.info("memory")["lazyfree_pending_objects"] == 0), True)

    def test_flush(self):
        r = self.r
        r.mset({"a": "1", "b": "2"})
        self.assertTrue(r.flushdb())
        self.assertEqual(r.dbsize(), 0)
        r.set("a", "1")
        self.assertTrue(r.flushall(asynchronous=True))
        self.assertEqual(r.dbsize(), 0)
        self.err(lambda: r.execute_command("FLUSHDB", "LATER"), "syntax error")


class Connection(Base):
    def test_ping_echo_select_time(self):
        r = self.r
        self.assertTrue(r.ping())
        self.assertEqual(raw(b"PING hi\r\n"), b"$2\r\nhi\r\n")
        self.err(lambda: r.execute_command("PING", "a", "b"),
                 "wrong number of arguments for 'ping' command")
        self.assertEqual(r.echo("hello"), b"hello")
        self.assertTrue(r.execute_command("SELECT", "0"))
        self.err(lambda: r.execute_command("SELECT", "99"), "DB index is out of range")
        self.err(lambda: r.execute_command("SELECT", "x"),
                 "value is not an integer or out of range")
        secs, usecs = r.time()
        self.assertLess(abs(secs - time.time()), 5)
        self.assertTrue(0 <= usecs < 1000000)

    def test_client(self):
        r = self.r
        self.assertIsNone(r.client_getname())
        self.assertTrue(r.client_setname("worker-1"))
        self.assertEqual(r.client_getname(), "worker-1")
        cid = r.client_id()
        self.assertIsInstance(cid, int)
        info = r.execute_command("CLIENT", "INFO").decode()
        self.assertIn("id=%d " % cid, info)
        self.assertIn("name=worker-1 ", info)
        self.err(lambda: r.client_setname("bad name"),
                 "Client names cannot contain spaces, newlines or special characters.")
        self.err(lambda: r.execute_command("CLIENT", "NOPE"),
                 "unknown subcommand 'NOPE'. Try CLIENT HELP.")
        self.assertTrue(len(r.execute_command("CLIENT", "HELP")) > 2)

    def test_command_and_config(self):
        r = self.r
        self.assertGreater(r.command_count(), 30)
        docs = r.execute_command("COMMAND DOCS", "get")
        self.assertIn(b"get", docs)
        info = r.execute_command("COMMAND INFO", "get")
        self.assertEqual(info[0][0], b"get")
        self.assertEqual(info[0][1], 2)
        self.assertEqual(r.config_get("save"), {"save": ""})
        self.assertEqual(r.config_get("appendonly"), {"appendonly": "no"})
        self.assertIn("maxmemory", r.config_get("max*"))

    def test_unknown_and_arity(self):
        r = self.r
        self.err(lambda: r.execute_command("FOO", "a", "b"),
                 "unknown command 'FOO', with args beginning with: 'a' 'b' ")
        self.err(lambda: r.execute_command("GET"),
                 "wrong number of arguments for 'get' command")
        if MODE != "redis":
            self.err(lambda: r.execute_command("HSET", "h", "f", "v"),
                     "unknown command 'HSET', with args beginning with: 'h' 'f' 'v' ")

    def test_info(self):
        r = self.r
        r.set("a", "1")
        info = r.info("all")
        for field in ("redis_version", "connected_clients", "used_memory",
                      "total_commands_processed", "role", "keyspace_hits"):
            self.assertIn(field, info)
        self.assertEqual(info["db0"]["keys"], 1)
        self.assertEqual(set(r.info("server").keys()) & {"used_memory"}, set())
        if MODE != "redis":
            repl = r.info("replication")
            self.assertIn(repl["raft_role"], ("leader", "follower"))
            self.assertGreaterEqual(repl["raft_commit_index"], 1)
            self.assertGreaterEqual(repl["raft_term"], 1)
            self.assertEqual(repl["role"], "slave" if MODE == "follower" else "master")

    def test_readonly_readwrite_wait(self):
        r = client(single_connection_client=True)
        if MODE == "redis":
            return  # Redis refuses READONLY outside cluster mode
        self.assertTrue(r.execute_command("READONLY"))
        r.set("k", "v")
        # A local read may lag on a follower, but catches up.
        self.assertEqual(poll(lambda: r.get("k")), b"v")
        self.assertTrue(r.execute_command("READWRITE"))
        r.set("k", "w")
        self.assertEqual(r.get("k"), b"w")
        self.assertEqual(r.wait(0, 0), 1 if MODE == "follower" else 0)
        self.err(lambda: r.execute_command("WAIT", "0", "-1"), "timeout is negative")
        r.close()

    def test_quit_and_reset(self):
        out = raw(b"SET q 1\r\nQUIT\r\nGET q\r\n", read_until_close=True)
        self.assertEqual(out, b"+OK\r\n+OK\r\n")
        out = raw(b"HELLO 3\r\nRESET\r\nGET nothing\r\n")
        self.assertTrue(out.endswith(b"+RESET\r\n$-1\r\n"), out)

    def test_hello(self):
        out = raw(b"HELLO 3 SETNAME me AUTH default pw\r\nGET nothing\r\nCLIENT GETNAME\r\n")
        self.assertTrue(out.startswith(b"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n"), out)
        self.assertIn(b"$5\r\nproto\r\n:3\r\n", out)
        self.assertTrue(out.endswith(b"_\r\n$2\r\nme\r\n"), out)
        self.assertEqual(raw(b"HELLO 4\r\n"), b"-NOPROTO unsupported protocol version\r\n")
        self.assertEqual(raw(b"HELLO x\r\n"),
                         b"-ERR Protocol version is not an integer or out of range\r\n")
        self.assertEqual(raw(b"HELLO 2 FOO\r\n"), b"-ERR Syntax error in HELLO option 'FOO'\r\n")
        self.assertTrue(raw(b"HELLO 2 AUTH bob pw\r\n").startswith(b"-WRONGPASS"))


class Protocol(Base):
    def test_inline_and_pipelining(self):
        out = raw(b"SET a 1\r\nSET b \"two words\"\r\nMGET a b\r\nPING\r\n")
        self.assertEqual(out, b"+OK\r\n+OK\r\n*2\r\n$1\r\n1\r\n$9\r\ntwo words\r\n+PONG\r\n")

    def test_partial_reads(self):
        msg = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
        with socket.create_connection(("127.0.0.1", PORT), timeout=5) as s:
            for i in range(len(msg)):
                s.sendall(msg[i:i + 1])
            out = b""
            deadline = time.monotonic() + 5
            while out != b"+OK\r\n$5\r\nhello\r\n" and time.monotonic() < deadline:
                out += s.recv(100)
        self.assertEqual(out, b"+OK\r\n$5\r\nhello\r\n")

    def test_protocol_error_closes(self):
        out = raw(b"PING\r\n*1\r\n$x\r\nPING\r\n", read_until_close=True)
        self.assertEqual(out, b"+PONG\r\n-ERR Protocol error: invalid bulk length\r\n")
        out = raw(b"SET a \"unbalanced\r\n", read_until_close=True)
        self.assertEqual(out, b"-ERR Protocol error: unbalanced quotes in request\r\n")

    def test_pipeline_order_writes_and_reads(self):
        # Reads after writes see them; reads before writes do not; answers keep request order.
        p = self.r.pipeline(transaction=False)
        for i in range(200):
            p.get("n")
            p.incr("n")
            p.get("n")
        res = p.execute()
        for i in range(200):
            self.assertEqual(res[3 * i], None if i == 0 else str(i).encode())
            self.assertEqual(res[3 * i + 1], i + 1)
            self.assertEqual(res[3 * i + 2], str(i + 1).encode())

    def test_many_clients(self):
        clients = [client() for _ in range(8)]
        for i, c in enumerate(clients):
            p = c.pipeline(transaction=False)
            for j in range(100):
                p.set("c%d:%d" % (i, j), j)
            p.execute()
        self.assertEqual(self.r.dbsize(), 800)
        for c in clients:
            c.close()


class Cas(Base):
    def test_cas(self):
        if MODE == "redis":
            return
        r = self.r
        self.assertEqual(r.execute_command("CAS", "k", "a", "b"), 0)
        r.set("k", "a", ex=100)
        self.assertEqual(r.execute_command("CAS", "k", "x", "b"), 0)
        self.assertEqual(r.execute_command("CAS", "k", "a", "b"), 1)
        self.assertEqual(r.get("k"), b"b")
        self.assertTrue(95 <= r.ttl("k") <= 100)
        self.err(lambda: r.execute_command("CAS", "k", "a"),
                 "wrong number of arguments for 'cas' command")


def start_redis():
    port = cairn_proc.free_port()
    d = tempfile.mkdtemp(prefix="cairn-resp-redis-")
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--save", "", "--appendonly",
                             "no", "--dir", d], stdout=subprocess.DEVNULL)
    end = time.monotonic() + 10
    while time.monotonic() < end:
        try:
            if cairn_proc.resp_command(port, "PING") == b"+PONG\r\n":
                return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("redis-server did not start")


def main():
    global PORT, MODE
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", help="path to cairn-server")
    ap.add_argument("--mode", choices=["single", "threads", "follower", "redis"], default="single")
    args, rest = ap.parse_known_args()
    MODE = args.mode
    cluster = redis_proc = None
    try:
        if MODE == "redis":
            redis_proc, PORT = start_redis()
        else:
            # "single" and "follower" serve Redis clients on the node thread (the default; a lone
            # voter then answers reads at once), "threads" from I/O threads of the server's own.
            if MODE == "follower":
                cluster = cairn_proc.Cluster(args.server, 3)
            elif MODE == "threads":
                cluster = cairn_proc.Cluster(args.server, 1, ["--resp-threads", "2"])
            else:
                cluster = cairn_proc.Cluster(args.server, 1)
            PORT = (cluster.follower() if MODE == "follower" else cluster.nodes[0]).resp_port
        prog = unittest.main(argv=[sys.argv[0]] + rest, exit=False, verbosity=2)
        return 0 if prog.result.wasSuccessful() else 1
    finally:
        if cluster:
            cluster.stop()
        if redis_proc:
            redis_proc.terminate()
            redis_proc.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
