#!/usr/bin/env bash
# Hit ratio at equal memory: cairn against redis-server on the same cache-aside Zipf traces.
#
# For each memory limit and Zipf exponent, bench/hit_ratio_client.py replays the same trace
# (--keys 1000000, 16-byte keys, 32-byte values: GET, and SET after a miss) against a fresh
# server with that limit, one after another:
#   redis-server 7.0 --maxmemory L --maxmemory-policy allkeys-lru, then allkeys-lfu
#   cairn-server (one node, --storage memory) --max-memory L --eviction s3-fifo (the default),
#   sieve, allkeys-lru
# and prints each run's hit ratio (after the warm-up), used memory over the limit, and keys held.
#
# Every server is started here and stopped by its PID, in one mktemp -d directory removed at exit.
#
#   bench/hit-ratio-vs-redis.sh [LIMITS] [ALPHAS] [REQUESTS]
#     (default "4mb 16mb", "0.99 0.8", 600000; needs build/ with cairn-server,
#      redis-server and Debian's python3-redis)
set -euo pipefail
cd "$(dirname "$0")/.."
S=build/tools/cairn-server/cairn-server
limits=${1:-"4mb 16mb"}
alphas=${2:-"0.99 0.8"}
requests=${3:-600000}
port=17510

[[ -x $S ]] || { echo "missing $S (ninja -C build cairn-server)" >&2; exit 1; }
command -v redis-server >/dev/null || { echo "needs redis-server" >&2; exit 1; }
/usr/bin/python3 -c 'import redis' 2>/dev/null || { echo "needs python3-redis" >&2; exit 1; }
source bench/ports.sh
require_free_ports $port 2

tmp=$(mktemp -d)
pid=""
stop() {
  if [[ -n $pid ]]; then
    kill "$pid" 2>/dev/null || true
    { wait "$pid" || true; } 2>/dev/null
  fi
  pid=""
}
trap 'stop; rm -rf "$tmp"' EXIT

run() {  # name alpha, with the server already started as $pid on $port
  wait_for_ping $port
  local out
  out=$(/usr/bin/python3 bench/hit_ratio_client.py --port $port --alpha "$2" --requests "$requests" \
    --warmup $((requests / 6)))
  /usr/bin/python3 -c '
import json, sys
name, alpha, out, limit = sys.argv[1:5]
r = json.loads(out)
used = r["used_memory"] / r["maxmemory"]
print(f"{name:<12} {limit:<6} alpha {alpha:<5} hit ratio {r['"'"'hit_ratio'"'"']:.4f}  "
      f"used/limit {used:.3f}  keys {r['"'"'keys'"'"']}")' \
    "$1" "$2" "$out" "$limit"
  stop
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); $requests requests per run"
for limit in $limits; do
  for alpha in $alphas; do
    for policy in allkeys-lru allkeys-lfu; do
      redis-server --port $port --bind 127.0.0.1 --save '' --appendonly no --maxmemory "$limit" \
        --maxmemory-policy $policy --daemonize no >"$tmp/redis.log" 2>&1 &
      pid=$!
      run "redis/${policy#allkeys-}" "$alpha"
    done
    for policy in s3-fifo sieve allkeys-lru; do
      rm -rf "$tmp/data"
      mkdir -p "$tmp/data"
      $S --listen 127.0.0.1:$((port + 1)) --resp 127.0.0.1:$port --data-dir "$tmp/data" \
        --storage memory --max-memory "$limit" --eviction $policy >"$tmp/cairn.log" 2>&1 &
      pid=$!
      run "cairn/${policy#allkeys-}" "$alpha"
    done
  done
done
