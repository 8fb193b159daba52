#!/usr/bin/python3
"""Writes the seed corpus of frame_message_fuzz into corpus/frame_message/.

Each file is one fuzzer input: a control byte (how the fuzzer cuts the stream into reads and
which frame limit it uses, see frame_message_fuzz.cc) followed by a byte stream. The streams are
valid frames of every message kind and command, a pipelined batch, and a few broken streams.
The encoding here is written independently of the C++ encoder, from docs/protocol.md.

Run from anywhere: /usr/bin/python3 tests/fuzz/make_corpus.py
"""
import os
import struct

from corpus_util import write_corpus

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "frame_message")


def u32(v):
    return struct.pack("<I", v)


def u64(v):
    return struct.pack("<Q", v)


def bstr(b):
    if isinstance(b, str):
        b = b.encode("utf-8")
    return u64(len(b)) + b


def opt_u64(v):
    return b"\x00" if v is None else b"\x01" + u64(v)


def opt_bstr(v):
    return b"\x00" if v is None else b"\x01" + bstr(v)


def frame(payload):
    return struct.pack(">I", len(payload)) + payload


def raft(data):
    return u32(0) + bstr(data)


def request(request_id, command):
    return u32(1) + u64(request_id) + command


def put(key, value, ttl_ms):
    return u32(0) + bstr(key) + bstr(value) + opt_u64(ttl_ms)


def delete(key):
    return u32(1) + bstr(key)


def clear():
    return u32(2)


def get(key):
    return u32(3) + bstr(key)


def response(request_id, success, error=None, leader_hint=None, value=None):
    return (u32(2) + u64(request_id) + (b"\x01" if success else b"\x00") + opt_bstr(error) +
            opt_u64(leader_hint) + opt_bstr(value))


def ping(node_id, addr):
    return u32(3) + u64(node_id) + bstr(addr)


def pong(node_id, addr, leader_id):
    return u32(4) + u64(node_id) + bstr(addr) + opt_u64(leader_id)


def i64(v):
    return struct.pack("<q", v)


def key_only(tag, key):
    return u32(tag) + bstr(key)


def admin(tag, node_id, addr=None):
    return u32(tag) + u64(node_id) + (bstr(addr) if addr is not None else b"")


def forward(origin, hops, request_id, body):
    return u32(5) + u64(origin) + u32(hops) + u64(request_id) + body


def status_response(members):
    body = u32(8) + u64(1) + u64(1) + bstr("leader") + u64(2) + u64(1) + u64(5) + u64(5) + u64(5)
    body += u64(len(members))
    for node_id, addr, voter in members:
        body += u64(node_id) + bstr(addr) + (b"\x01" if voter else b"\x00")
    return body + u64(3) + u64(4096)


# MsgHeartbeat to 3 from 1, term 5, as protobuf.
HEARTBEAT = bytes([0x08, 0x08, 0x10, 0x03, 0x18, 0x01, 0x20, 0x05])

VALID = {
    "raft": raft(HEARTBEAT),
    "raft_empty": raft(b""),
    "put": request(1, put("user:1", "alice", 60000)),
    "put_binary_no_ttl": request(2**64 - 1, put(b"\x00\xff", b"\x00" * 40, None)),
    "delete": request(3, delete("user:1")),
    "clear": request(4, clear()),
    "get": request(5, get("user:1")),
    "response_ok": response(1, True),
    "response_value": response(5, True, value=b"alice"),
    "response_not_leader": response(3, False, error="not leader", leader_hint=2),
    "ping": ping(7, "127.0.0.1:9000"),
    "pong_leader": pong(2, "10.0.0.2:9000", 1),
    "pong_no_leader": pong(2, "\u00e9t\u00e9:1", None),
    # cairn's commands and message kinds (docs/protocol.md 3.6 to 3.8).
    "incr": request(6, u32(4) + bstr("n") + i64(-5)),
    "cas": request(7, u32(5) + bstr("k") + bstr("a") + bstr("b") + opt_u64(1000)),
    "expire": request(8, u32(6) + bstr("k") + u64(10000)),
    "persist": request(9, key_only(7, "k")),
    "append": request(10, u32(8) + bstr("k") + bstr("x")),
    "getdel": request(11, key_only(9, "k")),
    "exists": request(12, key_only(10, "k")),
    "ttl": request(13, key_only(11, "k")),
    "stale_get": request(14, key_only(12, "k")),
    "forward_engine": forward(2, 0, 1, u32(0) + bstr(b"\x01\x02")),
    "forward_admin": forward(2, 1, 2, u32(1) + admin(0, 4, "127.0.0.1:9004")),
    "forward_reply": u32(6) + u64(1) + b"\x01\x00\x00\x00",
    "status_request": u32(7) + u64(1),
    "status_response": status_response([(1, "127.0.0.1:9001", True), (4, "127.0.0.1:9004", False)]),
    "admin_add": u32(9) + u64(2) + admin(0, 4, "127.0.0.1:9004"),
    "admin_remove": u32(9) + u64(3) + admin(1, 4),
    "admin_transfer": u32(9) + u64(4) + admin(2, 2),
}

# (name, control byte, stream)
INPUTS = []
for i, (name, payload) in enumerate(sorted(VALID.items())):
    INPUTS.append((name, (i * 37) & 0x3f, frame(payload)))

batch = b"".join(frame(p) for _, p in sorted(VALID.items()))
INPUTS += [
    ("batch_at_once", 0x00, batch),
    ("batch_byte_at_a_time", 0x01, batch),
    ("batch_random_reads", 0x0e, batch),
    ("batch_real_limit", 0xf2, batch),
    # Broken streams.
    ("oversized_header", 0xf0, struct.pack(">I", 16 * 1024 * 1024 + 1) + b"x" * 16),
    ("max_header", 0x02, b"\xff\xff\xff\xff"),
    ("truncated_frame", 0x03, frame(VALID["ping"])[:-3]),
    ("zero_length_frame", 0x00, frame(b"") + frame(VALID["ping"])),
    ("unknown_message_tag", 0x00, frame(u32(10) + u64(1))),
    ("unknown_command_tag", 0x06, frame(u32(1) + u64(1) + u32(13))),
    ("forged_member_count", 0x00, frame(status_response([])[:-16 - 8] + u64(2**63) + u64(0))),
    ("length_beyond_payload", 0x00, frame(u32(0) + u64(2**64 - 1) + b"abc")),
    ("invalid_utf8_ping", 0x00, frame(u32(3) + u64(1) + bstr(b"\xed\xa0\x80"))),
    ("invalid_utf8_error", 0x00,
     frame(u32(2) + u64(1) + b"\x00\x01" + bstr(b"\xc0\xaf") + b"\x00\x00")),
    ("invalid_bool", 0x00, frame(u32(2) + u64(1) + b"\x02\x00\x00\x00")),
    ("invalid_option", 0x00, frame(u32(4) + u64(1) + bstr("a:1") + b"\x07")),
    ("trailing_bytes", 0x00, frame(VALID["response_ok"] + b"\x00")),
    ("bare_payload", 0x00, VALID["put"]),
]


def main():
    write_corpus(OUT, INPUTS)


if __name__ == "__main__":
    main()
