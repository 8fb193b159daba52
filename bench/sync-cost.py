#!/usr/bin/python3
"""What one append-and-fdatasync costs on a disk, by how the file was prepared.

The log's writer appends a record and syncs it (--fsync always). Whether the sync must also write
the file's inode (its size grew, its blocks were allocated or converted) depends on how the
segment was prepared; this measures each way on the directory given (put it on the disk the data
directory lives on):

  append       a new empty file, appended to
  keep-size    fallocate(FALLOC_FL_KEEP_SIZE) first (what the log's segments do today)
  sized        fallocate() that also sets the size, then written from the start
  zeroed       zeros written and synced first, then written from the start

  bench/sync-cost.py DIR [--records N] [--bytes B] [--rounds R]

Prints microseconds per append+fdatasync for each way, R rounds taking turns. The file is made
with mkstemp in DIR and removed.
"""
import argparse
import ctypes
import os
import statistics
import tempfile
import time

FALLOC_FL_KEEP_SIZE = 1
SPACE = 64 << 20


def prepare(fd, way):
    if way == "keep-size":
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.fallocate(fd, FALLOC_FL_KEEP_SIZE, ctypes.c_long(0), ctypes.c_long(SPACE)) != 0:
            raise OSError(ctypes.get_errno(), "fallocate(KEEP_SIZE)")
    elif way == "sized":
        os.posix_fallocate(fd, 0, SPACE)
    elif way == "zeroed":
        chunk = b"\0" * (1 << 20)
        for _ in range(SPACE // len(chunk)):
            os.write(fd, chunk)
        os.fsync(fd)
        os.lseek(fd, 0, os.SEEK_SET)


def one(directory, way, records, size):
    fd, path = tempfile.mkstemp(prefix="sync-cost.", dir=directory)
    try:
        prepare(fd, way)
        record = b"x" * size
        start = time.perf_counter()
        for _ in range(records):
            os.write(fd, record)
            os.fdatasync(fd)
        return (time.perf_counter() - start) / records * 1e6
    finally:
        os.close(fd)
        os.unlink(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", help="a directory on the disk to measure")
    ap.add_argument("--records", type=int, default=2000)
    ap.add_argument("--bytes", type=int, default=700)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    if not os.path.isdir(a.dir):
        ap.error(f"{a.dir}: not a directory")
    if a.records < 1 or a.bytes < 1 or a.rounds < 1:
        ap.error("--records, --bytes and --rounds must be at least 1")
    if a.records * a.bytes > SPACE:
        ap.error(f"--records x --bytes must fit the {SPACE >> 20} MiB prepared")
    ways = ["append", "keep-size", "sized", "zeroed"]
    results = {w: [] for w in ways}
    for r in range(a.rounds):
        for w in ways:
            us = one(a.dir, w, a.records, a.bytes)
            results[w].append(us)
            print(f"round {r + 1} {w:10s} {us:7.0f} us per {a.bytes}-byte append + fdatasync")
    for w in ways:
        print(f"median {w:10s} {statistics.median(results[w]):7.0f} us")


if __name__ == "__main__":
    main()
