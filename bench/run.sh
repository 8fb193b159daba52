#!/usr/bin/env bash
# Every benchmark of cairn in one run; docs/BENCHMARKS.md records what it prints.
#
#   bench/run.sh
#
# Network (codec + Ping/Pong side by side with redis-server), cache engine (hit ratio,
# throughput, memory per key against redis-server, snapshot), Raft core, RESP layer.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh >/dev/null
bench/net/run.sh
echo
bench/cache/run.sh build
echo
ninja -C build raft_bench server_resp_bench >/dev/null
echo "## Raft core (raft_bench)"
build/bench/raft/raft_bench --benchmark_min_time=0.5
echo
echo "## RESP layer (server_resp_bench)"
build/bench/server/server_resp_bench --benchmark_min_time=0.5
