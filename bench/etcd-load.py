#!/usr/bin/python3
"""Load generator for etcd v3 over its gRPC API, shaped like redis-benchmark.

  bench/etcd-load.py --endpoints 127.0.0.1:2379,... (put|range|preload) [options]

N clients (default 50), each with one request in flight (redis-benchmark -P 1), over C gRPC
channels, for a fixed time. Keys are redis-benchmark's: "key:" + 12-digit number below --keys
(redis-benchmark -r), values --value-size bytes. `put` writes, `range` reads one key with
etcd's default linearizable consistency (serializable=false), `preload` writes every key once
(transactions of 128 puts). The requests go to the leader (found with Maintenance.Status),
as the cairn runs go to cairn's leader. --procs P splits the clients over P processes.

Prints one JSON object: ops_per_sec, latency_ms p50/p99/max, errors, and the CPU seconds the
driver used (so a run can show whether etcd or the driver was the limit).

Needs Debian's python3-grpcio and python3-etcd3 (for etcd's generated gRPC stubs); run it with
/usr/bin/python3.
"""
import argparse
import asyncio
import json
import multiprocessing
import random
import resource
import sys
import time

import grpc
from etcd3.etcdrpc import rpc_pb2, rpc_pb2_grpc


def key(i):
    return b"key:%012d" % i


def find_leader(endpoints):
    for ep in endpoints:
        with grpc.insecure_channel(ep) as ch:
            st = rpc_pb2_grpc.MaintenanceStub(ch).Status(rpc_pb2.StatusRequest(), timeout=5)
            if st.leader == st.header.member_id:
                return ep
    raise SystemExit("no etcd member says it is the leader")


async def worker(stub, op, args, deadline, lat, errs, seed):
    rnd = random.Random(seed)
    value = b"x" * args.value_size
    n = args.keys
    Put, Range = stub.Put, stub.Range
    perf = time.perf_counter
    while True:
        t0 = perf()
        if t0 >= deadline:
            return
        k = key(rnd.randrange(n))
        try:
            if op == "put":
                await Put(rpc_pb2.PutRequest(key=k, value=value), timeout=10)
            else:
                await Range(rpc_pb2.RangeRequest(key=k), timeout=10)
        except grpc.aio.AioRpcError:
            errs[0] += 1
            continue
        lat.append(perf() - t0)


async def run_part(ep, op, args, clients, seed, start_at):
    chans = [grpc.aio.insecure_channel(ep) for _ in range(max(1, min(args.channels, clients)))]
    stubs = [rpc_pb2_grpc.KVStub(c) for c in chans]
    for c in chans:
        await c.channel_ready()
    lat, errs = [], [0]
    await asyncio.sleep(max(0.0, start_at - time.time()))
    t0 = time.perf_counter()
    deadline = t0 + args.seconds
    await asyncio.gather(*[worker(stubs[i % len(stubs)], op, args, deadline, lat, errs, seed * 1000 + i)
                           for i in range(clients)])
    elapsed = time.perf_counter() - t0
    for c in chans:
        await c.close()
    return lat, errs[0], elapsed


def part_main(ep, op, args, clients, seed, start_at, q):
    lat, errs, elapsed = asyncio.run(run_part(ep, op, args, clients, seed, start_at))
    ru = resource.getrusage(resource.RUSAGE_SELF)
    q.put((lat, errs, elapsed, ru.ru_utime + ru.ru_stime))


async def preload(ep, args):
    async with grpc.aio.insecure_channel(ep) as ch:
        stub = rpc_pb2_grpc.KVStub(ch)
        value = b"x" * args.value_size
        sem = asyncio.Semaphore(8)

        async def txn(lo, hi):
            async with sem:
                ops = [rpc_pb2.RequestOp(request_put=rpc_pb2.PutRequest(key=key(i), value=value))
                       for i in range(lo, hi)]
                await stub.Txn(rpc_pb2.TxnRequest(success=ops), timeout=30)

        await asyncio.gather(*[txn(lo, min(lo + 128, args.keys)) for lo in range(0, args.keys, 128)])


def pct(sorted_lat, p):
    if not sorted_lat:
        return 0.0
    return sorted_lat[min(len(sorted_lat) - 1, int(p / 100.0 * len(sorted_lat)))] * 1000


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("op", choices=["put", "range", "preload"])
    ap.add_argument("--endpoints", required=True, help="HOST:PORT[,HOST:PORT...] (client URLs)")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--channels", type=int, default=50, help="gRPC channels (TCP connections)")
    ap.add_argument("--procs", type=int, default=1)
    ap.add_argument("--keys", type=int, default=100000)
    ap.add_argument("--value-size", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args()
    ep = find_leader(args.endpoints.split(","))
    if args.op == "preload":
        t0 = time.time()
        asyncio.run(preload(ep, args))
        print(json.dumps({"preloaded": args.keys, "seconds": round(time.time() - t0, 2)}))
        return
    procs = max(1, min(args.procs, args.clients))
    ctx = multiprocessing.get_context("spawn")  # gRPC does not survive a fork
    q = ctx.Queue()
    start_at = time.time() + (1.0 if procs == 1 else 2.5)  # every process connected first
    ps = []
    for p in range(procs):
        n = args.clients // procs + (1 if p < args.clients % procs else 0)
        ps.append(ctx.Process(target=part_main, args=(ep, args.op, args, n, p + 1, start_at, q)))
    for p in ps:
        p.start()
    results = [q.get() for _ in ps]
    for p in ps:
        p.join()
    lat = sorted(x for r in results for x in r[0])
    elapsed = max(r[2] for r in results)
    print(json.dumps({
        "op": args.op, "leader": ep, "clients": args.clients, "channels": args.channels, "procs": procs,
        "requests": len(lat), "errors": sum(r[1] for r in results), "seconds": round(elapsed, 2),
        "ops_per_sec": round(len(lat) / elapsed, 1),
        "latency_ms": {"p50": round(pct(lat, 50), 3), "p99": round(pct(lat, 99), 3),
                       "max": round(lat[-1] * 1000, 3) if lat else 0},
        "driver_cpu_seconds": round(sum(r[3] for r in results), 2),
    }))


if __name__ == "__main__":
    sys.exit(main())
