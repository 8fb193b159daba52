#!/usr/bin/env bash
# Builds (RelWithDebInfo) and runs every cache engine benchmark; prints the tables that
# docs/BENCHMARKS.md ("Cache engine") reports. Needs redis-server and redis-cli on PATH for the
# memory comparison. Usage: bench/cache/run.sh [build-dir]   (default: build-cache)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$root/build-cache}"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$build" -j2 cache_hit_ratio cache_throughput_bench cache_memory_bench cache_snapshot_bench
bin="$build/bench/cache"
echo "== Hit ratio"
"$bin/cache_hit_ratio"
echo
echo "== Throughput (Google Benchmark)"
"$bin/cache_throughput_bench" --benchmark_min_time=1
echo
echo "== Memory per key"
"$bin/cache_memory_bench"
echo
echo "== Snapshot"
"$bin/cache_snapshot_bench"
