#!/usr/bin/env bash
# Same-run A/B of the cost of durability: a 3-node cluster on 127.0.0.1 with the log in memory
# (--storage memory) and on disk (--storage disk, --fsync always), taking turns, Redis SET through
# the leader with redis-benchmark (50 clients, 32-byte values, pipeline 1 and 16). Every process is
# started here, stopped by PID, and its temporary data directory removed.
#
#   bench/storage-ab.sh [ROUNDS]     (default 2; needs build/ and redis-benchmark)
set -euo pipefail
cd "$(dirname "$0")/.."
S=build/tools/cairn-server/cairn-server
rounds=${1:-2}
run() { # mode
  local d pids=()
  d=$(mktemp -d)
  local peers="1=127.0.0.1:19101,2=127.0.0.1:19102,3=127.0.0.1:19103"
  for i in 1 2 3; do
    $S --id $i --listen 127.0.0.1:1910$i --resp 127.0.0.1:1630$i --peers $peers --data-dir $d/n$i --storage $1 --log-level warn > $d/log$i 2>&1 &
    pids+=($!)
  done
  sleep 2
  local lead
  lead=$(for i in 1 2 3; do redis-cli -p 1630$i info replication | grep -q "raft_role:leader" && echo $i; done)
  for P in 1 16; do
    local r
    r=$(redis-benchmark -p 1630$lead -c 50 -n 60000 -P $P -t set -d 32 -r 100000 -q 2>/dev/null | tr '\r' '\n' | grep "requests per second" | tail -1)
    echo "$1 P$P: $r"
  done
  kill "${pids[@]}"
  wait "${pids[@]}" 2>/dev/null || true
  rm -rf "$d"
}
for ((round = 1; round <= rounds; round++)); do run memory; run disk; done
