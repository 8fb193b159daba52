#!/usr/bin/python3
"""Writes the seed corpus of resp_parser_fuzz into corpus/resp_parser/.

Each file is one fuzzer input: a control byte (how the fuzzer cuts the stream into reads and which
limits it uses, see resp_parser_fuzz.cc) followed by the bytes a Redis client would send: valid
multibulk and inline requests of the commands cairn answers, pipelined batches, and the malformed
requests behind each protocol error redis-server sends.

Run from anywhere: /usr/bin/python3 tests/fuzz/make_resp_corpus.py
"""
import os

from corpus_util import write_corpus

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "resp_parser")

# Control bytes: 0xc0 and above use the real limits; below, small limits (see the fuzz target).
REAL_LIMITS = 0xc0
SMALL_LIMITS = 0x10


def mb(*args):
    """One multibulk request."""
    out = b"*%d\r\n" % len(args)
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


VALID = {
    "set": mb("SET", "user:1", "alice"),
    "set_ex_nx_get": mb("SET", "k", "v", "EX", "10", "NX", "GET"),
    "get": mb("GET", "user:1"),
    "mset": mb("MSET", "a", "1", "b", "2"),
    "cas": mb("CAS", "k", "old", "new"),
    "binary_value": mb("SET", b"\x00\xff", b"a\r\nb\x00"),
    "empty_arg": mb("ECHO", ""),
    "client_setname": mb("CLIENT", "SETNAME", "app"),
    "command_docs": mb("COMMAND", "DOCS"),
    "hello3": mb("HELLO", "3"),
    "unknown": mb("HGET", "h", "f"),
    "inline_ping": b"PING\r\n",
    "inline_set": b"SET key value\n",
    "inline_quotes": b"SET \"a b\\x41\\n\" 'it\\'s' ab\"cd\"\r\n",
    "blank_lines": b"\r\n\n  \t\r\nPING\r\n",
    "empty_multibulk": b"*0\r\n*-1\r\n" + mb("PING"),
}

BATCH = b"".join(v for _, v in sorted(VALID.items()))

BROKEN = {
    "count_not_number": b"*x\r\n",
    "count_leading_zero": b"*01\r\n",
    "bulk_len_negative": b"*1\r\n$-1\r\n",
    "bulk_len_huge": b"*1\r\n$536870913\r\n",
    "bulk_len_gigabyte": b"*1\r\n$1000000000\r\nabc",
    "expected_dollar": b"*2\r\n$3\r\nGET\r\n:1\r\n",
    "unbalanced_quotes": b"SET \"abc\r\n",
    "quote_then_letter": b"SET 'a'b\r\n",
    "partial_bulk": b"*2\r\n$3\r\nGET\r\n$10\r\nabc",
    "unchecked_terminators": b"*1\rX$4\rYPINGxx",
}

# (name, control byte, stream)
INPUTS = []
for i, (name, stream) in enumerate(sorted(VALID.items())):
    INPUTS.append((name, REAL_LIMITS | (i & 0x3f), stream))
for i, (name, stream) in enumerate(sorted(BROKEN.items())):
    INPUTS.append((name, REAL_LIMITS | (i * 7 & 0x3f), stream))
INPUTS += [
    ("batch_real_limits", REAL_LIMITS, BATCH),
    ("batch_small_limits", SMALL_LIMITS | 0x2f, BATCH),
    ("batch_tight_limits", 0x03, BATCH),
    ("long_inline", REAL_LIMITS, b"ECHO " + b"a" * 300 + b"\r\n"),
    ("long_inline_small_limit", 0x08, b"ECHO " + b"a" * 80 + b"\r\n"),
    ("long_count_line_small_limit", 0x08, b"*" + b"1" * 80),
]


def main():
    write_corpus(OUT, INPUTS)


if __name__ == "__main__":
    main()
