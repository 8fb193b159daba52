#!/usr/bin/env bash
# Native-protocol throughput and latency of cairn, one node and a three-node cluster, with
# redis-server measured in the same run as the reference peer (redis-benchmark, same client
# count and pipeline depth).
#
#   bench/cluster/run.sh [--quick]
#
# Every process is started here on 127.0.0.1 and stopped by PID. Needs a build in ./build (or
# $CAIRN_BUILD_DIR) with cairn-server and cairn-bench, and redis-server / redis-benchmark.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${CAIRN_BUILD_DIR:-build}
server="$build/tools/cairn-server/cairn-server"
bench="$build/tools/cairn-bench/cairn-bench"
duration=10s
requests=200000
if [[ "${1:-}" == "--quick" ]]; then duration=2s; requests=20000; fi
for b in "$server" "$bench"; do
  [[ -x "$b" ]] || { echo "missing $b: build first (cmake -S . -B build -G Ninja && ninja -C build)" >&2; exit 1; }
done
command -v redis-server >/dev/null || { echo "redis-server is not installed (scripts/install-deps.sh)" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_port() {  # host port
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  echo "nothing listens on $1:$2" >&2
  exit 1
}

start_cluster() {  # n -> prints the native addresses, comma separated
  local n=$1 peers="" addrs=""
  local -a ports
  for ((i = 1; i <= n; i++)); do ports[$i]=$(port); done
  for ((i = 1; i <= n; i++)); do peers+="${peers:+,}$i=127.0.0.1:${ports[$i]}"; done
  for ((i = 1; i <= n; i++)); do
    "$server" --id "$i" --listen "127.0.0.1:${ports[$i]}" --resp "127.0.0.1:0" --peers "$peers" \
      --storage memory --data-dir "$work/c$n-$i" --log-level warn >"$work/c$n-$i.log" 2>&1 &
    pids+=($!)
    addrs+="${addrs:+,}127.0.0.1:${ports[$i]}"
  done
  for ((i = 1; i <= n; i++)); do wait_port 127.0.0.1 "${ports[$i]}"; done
  echo "$addrs"
}

# One cairn-bench run -> "ops/s p50 p99" (microseconds).
run_bench() {  # addrs read_ratio pipeline value_size [extra...]
  local addrs=$1 ratio=$2 pipe=$3 size=$4
  shift 4
  "$bench" --addr "$addrs" --connections 50 --pipeline "$pipe" --keys 100000 \
    --value-size "$size" --read-ratio "$ratio" --duration "$duration" --json "$@" 2>/dev/null |
    /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(int(d["ops_per_sec"]), d["latency_us"]["p50"], d["latency_us"]["p99"])'
}

# One redis-benchmark run -> "ops/s p50 p99" (microseconds).
run_redis() {  # port test pipeline size
  redis-benchmark -h 127.0.0.1 -p "$1" -c 50 -n "$requests" -r 100000 -P "$3" -d "$4" -t "$2" --csv 2>/dev/null |
    /usr/bin/python3 -c '
import csv, sys
rows = list(csv.reader(sys.stdin))
r = rows[1]
print(int(float(r[1])), int(float(r[4]) * 1000), int(float(r[6]) * 1000))'
}

rport=$(port)
redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
  >"$work/redis.log" 2>&1 &
pids+=($!)
wait_port 127.0.0.1 "$rport"
one=$(start_cluster 1)
three=$(start_cluster 3)
sleep 1  # elections: a leader in each cluster before the first request

printf '%-34s %-5s %12s %10s %10s %8s\n' "workload" "pipe" "ops/s" "p50 us" "p99 us" "vs redis"
for size in 32; do
  for pipe in 1 16; do
    read -r r_set r_set50 r_set99 < <(run_redis "$rport" set "$pipe" "$size")
    read -r r_get r_get50 r_get99 < <(run_redis "$rport" get "$pipe" "$size")
    printf '%-34s %-5s %12s %10s %10s %8s\n' "redis-server SET" "$pipe" "$r_set" "$r_set50" "$r_set99" "1.00x"
    printf '%-34s %-5s %12s %10s %10s %8s\n' "redis-server GET" "$pipe" "$r_get" "$r_get50" "$r_get99" "1.00x"
    for target in "1 node:$one" "3 nodes:$three"; do
      name=${target%%:*}
      addrs=${target#*:}
      read -r w w50 w99 < <(run_bench "$addrs" 0 "$pipe" "$size")
      read -r g g50 g99 < <(run_bench "$addrs" 1 "$pipe" "$size")
      read -r s s50 s99 < <(run_bench "$addrs" 1 "$pipe" "$size" --stale-reads)
      ratio() { /usr/bin/python3 -c "print(f'{$1/$2:.2f}x')"; }
      printf '%-34s %-5s %12s %10s %10s %8s\n' "cairn $name Put" "$pipe" "$w" "$w50" "$w99" "$(ratio "$w" "$r_set")"
      printf '%-34s %-5s %12s %10s %10s %8s\n' "cairn $name Get (linearizable)" "$pipe" "$g" "$g50" "$g99" "$(ratio "$g" "$r_get")"
      printf '%-34s %-5s %12s %10s %10s %8s\n' "cairn $name StaleGet" "$pipe" "$s" "$s50" "$s99" "$(ratio "$s" "$r_get")"
    done
  done
done
