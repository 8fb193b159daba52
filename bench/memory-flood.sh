#!/usr/bin/env bash
# The memory limit under a write flood: a 3-node cluster on 127.0.0.1 with --max-memory 4mb takes
# 300,000 pipelined 100-byte SETs through its leader (redis-benchmark -c 20 -P 16, random keys)
# while INFO memory is sampled on every node every 100 ms; prints each node's used memory at the
# end and the worst sample as a ratio of the limit. Every process is started here, stopped by PID,
# and its temporary data directory removed.
#
#   bench/memory-flood.sh [POLICY...]   (default: s3-fifo sieve allkeys-lru; needs build/ and
#                                        redis-benchmark)
set -euo pipefail
cd "$(dirname "$0")/.."
S=build/tools/cairn-server/cairn-server
limit=4194304
run() {  # policy
  local pol=$1 d pids=() lead max=0
  d=$(mktemp -d)
  local peers="1=127.0.0.1:19201,2=127.0.0.1:19202,3=127.0.0.1:19203"
  for i in 1 2 3; do
    "$S" --id "$i" --listen "127.0.0.1:1920$i" --resp "127.0.0.1:1640$i" --peers "$peers" \
      --storage memory --data-dir "$d/n$i" --max-memory 4mb --eviction "$pol" --log-level warn >"$d/log$i" 2>&1 &
    pids+=($!)
  done
  sleep 2
  lead=$(for i in 1 2 3; do redis-cli -p "1640$i" info replication | grep -q "raft_role:leader" && echo "$i"; done)
  redis-benchmark -p "1640$lead" -c 20 -n 300000 -P 16 -t set -d 100 -r 10000000 -q >/dev/null 2>&1 &
  local bench=$!
  while kill -0 "$bench" 2>/dev/null; do
    for i in 1 2 3; do
      local m
      m=$(redis-cli -p "1640$i" info memory | grep "^used_memory:" | tr -d '\r' | cut -d: -f2)
      if [[ -n "$m" && "$m" -gt "$max" ]]; then max=$m; fi
    done
    sleep 0.1
  done
  for i in 1 2 3; do
    echo "$pol node $i: $(redis-cli -p "1640$i" info memory | grep '^used_memory:' | tr -d '\r'), $(redis-cli -p "1640$i" dbsize) keys"
  done
  echo "$pol: worst used_memory sampled during the flood $max = $(awk -v m="$max" -v l="$limit" 'BEGIN { printf "%.2f", m / l }')x the limit"
  kill "${pids[@]}"
  wait "${pids[@]}" 2>/dev/null || true
  rm -rf "$d"
}
policies=("$@")
[[ ${#policies[@]} -gt 0 ]] || policies=(s3-fifo sieve allkeys-lru)
for p in "${policies[@]}"; do run "$p"; done
