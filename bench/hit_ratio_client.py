#!/usr/bin/python3
"""Cache-aside read-through over the Redis protocol: a Zipf-distributed trace of GETs, and a SET
of the key after every miss, as an application caching a slower store does. Prints one JSON line:
the hit ratio (counted after the warm-up), the server's used_memory, maxmemory and key count.

GETs go out in pipelined batches and the misses of a batch are SET in the next pipeline, the same
for every server, so servers are compared on the same sequence of operations.

  bench/hit_ratio_client.py --port 6379 [--keys 1000000] [--requests 600000] [--warmup 100000]
                            [--alpha 0.99] [--value-bytes 32] [--batch 64] [--seed 1]
"""

import argparse
import bisect
import itertools
import json
import random
import sys

import redis


def zipf_cdf(n, alpha):
    """Cumulative weights of ranks 1..n under Zipf(alpha), as a list for bisect."""
    return list(itertools.accumulate(1.0 / (rank**alpha) for rank in range(1, n + 1)))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--keys", type=int, default=1_000_000)
    p.add_argument("--requests", type=int, default=600_000)
    p.add_argument("--warmup", type=int, default=100_000)
    p.add_argument("--alpha", type=float, default=0.99)
    p.add_argument("--value-bytes", type=int, default=32)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    if a.keys < 1 or a.requests <= a.warmup or a.batch < 1 or a.value_bytes < 1:
        p.error("need keys >= 1, requests > warmup, batch >= 1, value-bytes >= 1")

    cdf = zipf_cdf(a.keys, a.alpha)
    total = cdf[-1]
    rng = random.Random(a.seed)
    # Ranks are spread over the key space, so hot keys are not neighbours in any order.
    ids = list(range(a.keys))
    rng.shuffle(ids)
    value = b"v" * a.value_bytes

    r = redis.Redis(port=a.port, socket_timeout=30)
    r.ping()
    hits = lookups = 0
    done = 0
    while done < a.requests:
        n = min(a.batch, a.requests - done)
        keys = [
            b"key:%012d" % ids[bisect.bisect_left(cdf, rng.random() * total)] for _ in range(n)
        ]
        pipe = r.pipeline(transaction=False)
        for k in keys:
            pipe.get(k)
        answers = pipe.execute()
        pipe = r.pipeline(transaction=False)
        misses = 0
        for i, (k, v) in enumerate(zip(keys, answers)):
            if done + i >= a.warmup:
                lookups += 1
                hits += v is not None
            if v is None:
                pipe.set(k, value)
                misses += 1
        if misses:
            pipe.execute()
        done += n

    info = r.info("memory")
    print(
        json.dumps(
            {
                "hit_ratio": hits / lookups,
                "lookups": lookups,
                "used_memory": info.get("used_memory"),
                "maxmemory": info.get("maxmemory"),
                "keys": r.dbsize(),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
