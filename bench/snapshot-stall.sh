#!/usr/bin/env bash
# Client latency while snapshots of a large state are built: a 3-node cluster on 127.0.0.1 with
# the default --storage disk is loaded with MB megabytes of incompressible 1 KiB values, then
# 300,000 SETs of 1 KiB (20 clients, redis-benchmark) go through the leader. Every 64 MiB of log
# each node builds a snapshot of the whole state (docs/node.md, "Snapshots"). Reported: the
# SETs' throughput and latency (avg, min, p50, p95, p99, max in ms: the max is the longest a
# client waited), each node's last snapshot builds as it logs them, and each node's role and
# term at the end (an election would show as a higher term), and each node's peak and final
# resident memory (VmHWM, VmRSS). Every process is started here and stopped by PID; the temporary
# data directories are removed.
#
#   bench/snapshot-stall.sh [MB]     (default 512; needs build/, redis-cli, redis-benchmark)
#   CAIRN_SERVER=path bench/snapshot-stall.sh ...   (another cairn-server binary, for an A/B)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/ports.sh
S=${CAIRN_SERVER:-build/tools/cairn-server/cairn-server}
mb=${1:-512}
[[ "$mb" =~ ^[1-9][0-9]*$ ]] || { echo "MB must be a positive number, not '$mb'" >&2; exit 2; }
[[ -x "$S" ]] || { echo "no $S: build first (ninja -C build cairn-server)" >&2; exit 1; }
keys=$((mb * 1024))
d=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$d"
}
trap cleanup EXIT
peers="1=127.0.0.1:19301,2=127.0.0.1:19302,3=127.0.0.1:19303"
for i in 1 2 3; do
  $S --id $i --listen 127.0.0.1:1930$i --resp 127.0.0.1:1650$i --peers $peers \
    --data-dir "$d/n$i" --log-level info >>"$d/log$i" 2>&1 &
  pids[$i]=$!
done
lp=
for _ in $(seq 100); do
  for i in 1 2 3; do
    redis-cli -p 1650$i info replication 2>/dev/null | grep -q raft_role:leader && lp=1650$i
  done
  [[ -n $lp ]] && break
  sleep 0.2
done
[[ -n $lp ]] || { echo "no leader"; exit 1; }
echo "loading $keys keys of 1 KiB incompressible values ($mb MB) through port $lp"
load_random_values "$lp" "$keys"
echo "300000 SETs of 1 KiB, 20 clients (SET/s; avg min p50 p95 p99 max in ms):"
redis-benchmark -p "$lp" -c 20 -n 300000 -t set -d 1024 -r "$keys" 2>/dev/null | tr '\r' '\n' |
  grep -E "throughput summary|^ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ *$" |
  tail -2 || true
for i in 1 2 3; do
  echo "node $i: $(redis-cli -p 1650$i info replication | grep -E 'raft_role|raft_term' | tr -d '\r' | tr '\n' ' ')" \
    "$(grep -E '^Vm(HWM|RSS)' /proc/${pids[$i]}/status | tr -s ' \t' ' ' | tr '\n' ' ')"
  grep -hoE "snapshot at index [0-9]+ \([0-9]+ bytes\) built in [0-9]+ ms|snapshot at index [0-9]+ dropped.*" \
    "$d/log$i" | tail -6 | sed 's/^/  /' || true
done
