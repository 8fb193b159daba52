#!/usr/bin/env bash
# What exactly-once writes cost: the same native write load with and without client sessions.
#
# One cairn-server (the default --storage disk, --fsync always) on 127.0.0.1; cairn-bench sends
# SETs only (8 connections, pipeline 16, 100-byte values, 5 s a run), plainly and then with
# --sessions (each connection opens a session and numbers its writes, as the C++ client does),
# ROUNDS times taking turns. Prints every run, then the medians and sessions/plain. Stops only the
# server it started, by PID; its data directory is under one mktemp -d.
#
#   bench/session-cost.sh [CAIRN_SERVER] [CAIRN_BENCH] [ROUNDS]
#   (defaults: build/tools/cairn-server/cairn-server, build/tools/cairn-bench/cairn-bench, 4)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
server=${1:-$root/build/tools/cairn-server/cairn-server}
bench=${2:-$root/build/tools/cairn-bench/cairn-bench}
rounds=${3:-4}
for b in "$server" "$bench"; do [[ -x $b ]] || { echo "not an executable: $b" >&2; exit 2; }; done
source "$(dirname "$0")/ports.sh"
base=17700  # native base, Redis base+1
require_free_ports $base 2

tmp=$(mktemp -d)
pid=
trap '[[ -n $pid ]] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$tmp"' EXIT
"$server" --id 1 --listen "127.0.0.1:$base" --resp "127.0.0.1:$((base + 1))" \
  --data-dir "$tmp/data" --log-level warn > "$tmp/server.log" 2>&1 &
pid=$!
wait_for_ping $((base + 1))

declare -A runs
for ((r = 1; r <= rounds; r++)); do
  for mode in plain sessions; do
    flag=
    [[ $mode == sessions ]] && flag=--sessions
    out=$("$bench" --addr "127.0.0.1:$base" --read-ratio 0 --connections 8 --pipeline 16 \
      --duration 5s --seed "$r" $flag --json 2>/dev/null)
    ops=$(/usr/bin/python3 -c 'import json,sys; d=json.loads(sys.stdin.read().strip().splitlines()[-1]); print(round(d["ops_per_sec"]), d["errors"], d["latency_us"]["p50"], d["latency_us"]["p99"])' <<< "$out")
    read -r rate errors p50 p99 <<< "$ops"
    echo "round $r $mode: $rate ops/s, p50 $p50 us, p99 $p99 us, $errors errors"
    runs[$mode]+="$rate "
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
p=$(median <<< "${runs[plain]}")
s=$(median <<< "${runs[sessions]}")
echo "median: plain $p ops/s, sessions $s ops/s, sessions/plain $(awk -v a="$s" -v b="$p" 'BEGIN {printf "%.2f", a / b}')x"
