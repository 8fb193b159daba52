#!/usr/bin/env bash
# Writes of values larger than a frame (16 MiB), next to redis-server in the same run.
#
# For each size, a SET of an incompressible value of that size through redis-cli -x is timed
# (from start to its reply) against, taking turns:
#   redis    redis-server 7.0, --appendonly yes --appendfsync always
#   cairn1   one cairn-server, --storage disk --fsync always
#   cairn3   three cairn-servers (the same), the SET sent to a follower (forwarded to the leader
#            in MessageParts) and to the leader, alternately
# ROUNDS SETs per size and system; printed: each SET's time and whether it was answered OK, the
# median, cairn / redis as a ratio of the medians, then for cairn3 the leader changes and the
# longest turn of a node thread the nodes logged ("one turn of the node thread took N ms"), and
# every process's peak resident memory (VmHWM).
#
# Every process is started here and stopped by its PID; data directories are under one mktemp -d
# directory, removed at exit.
#
#   bench/big-values.sh [ROUNDS] [SIZES_MB]   (default 3 and "24 50 100 300"; needs build/ with
#                                              cairn-server, redis-server, redis-cli)
set -euo pipefail
cd "$(dirname "$0")/.."
S=build/tools/cairn-server/cairn-server
rounds=${1:-3}
sizes=${2:-"24 50 100 300"}
base=17400  # ports base+0 .. base+9

[[ -x $S ]] || { echo "missing $S (ninja -C build cairn-server)" >&2; exit 1; }
if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
  echo "needs redis-server and redis-cli (apt-get install redis-server redis-tools)" >&2
  exit 1
fi
source bench/ports.sh
require_free_ports $base 10

tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

redis-server --port $base --bind 127.0.0.1 --dir "$tmp" --appendonly yes --appendfsync always \
  --save '' --daemonize no >"$tmp/redis.log" 2>&1 &
pids+=($!)
redis_pid=$!
mkdir -p "$tmp/one"
$S --id 1 --listen 127.0.0.1:$((base + 1)) --resp 127.0.0.1:$((base + 2)) \
  --data-dir "$tmp/one" >"$tmp/one.log" 2>&1 &
pids+=($!)
one_pid=$!
peers="1=127.0.0.1:$((base + 3)),2=127.0.0.1:$((base + 4)),3=127.0.0.1:$((base + 5))"
three_pids=()
for i in 1 2 3; do
  mkdir -p "$tmp/n$i"
  $S --id $i --listen 127.0.0.1:$((base + 2 + i)) --resp 127.0.0.1:$((base + 5 + i)) \
    --peers "$peers" --data-dir "$tmp/n$i" >"$tmp/n$i.log" 2>&1 &
  pids+=($!)
  three_pids+=($!)
done
for p in $base $((base + 2)) $((base + 6)) $((base + 7)) $((base + 8)); do wait_for_ping "$p"; done
for _ in $(seq 200); do  # until the cluster has elected a leader and commits
  [[ $(redis-cli -p $((base + 6)) set warm up 2>&1) == OK ]] && break
  sleep 0.1
done
leader_port() {  # the RESP port of the node whose INFO says it leads
  for i in 1 2 3; do
    if redis-cli -p $((base + 5 + i)) info replication 2>/dev/null | grep -q '^role:master'; then
      echo $((base + 5 + i))
      return
    fi
  done
  echo $((base + 6))
}

# One timed SET: prints "<seconds> <OK|the reply>".
timed_set() {  # port key file
  local t0 t1 reply
  t0=$(date +%s%N)
  reply=$(redis-cli -p "$1" -x set "$2" <"$3" 2>&1 | head -c 200)
  t1=$(date +%s%N)
  echo "$(((t1 - t0) / 1000000)) ${reply//$'\n'/ }"
}
median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2)}'; }

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores"
for mb in $sizes; do
  head -c $((mb * 1024 * 1024)) /dev/urandom >"$tmp/value"
  : >"$tmp/redis.t"
  : >"$tmp/cairn1.t"
  : >"$tmp/cairn3.t"
  for ((r = 1; r <= rounds; r++)); do
    out=$(timed_set $base "v$mb-$r" "$tmp/value")
    echo "$mb MB redis  round $r: $out"
    echo "${out%% *}" >>"$tmp/redis.t"
    out=$(timed_set $((base + 2)) "v$mb-$r" "$tmp/value")
    echo "$mb MB cairn1 round $r: $out"
    echo "${out%% *}" >>"$tmp/cairn1.t"
    leader=$(leader_port)
    target=$leader
    if ((r % 2 == 1)); then  # a follower: the write is forwarded
      for i in 1 2 3; do
        [[ $((base + 5 + i)) != "$leader" ]] && { target=$((base + 5 + i)); break; }
      done
    fi
    out=$(timed_set "$target" "v$mb-$r" "$tmp/value")
    echo "$mb MB cairn3 round $r ($([[ $target == "$leader" ]] && echo leader || echo follower)): $out"
    echo "${out%% *}" >>"$tmp/cairn3.t"
  done
  rm=$(median <"$tmp/redis.t")
  c1=$(median <"$tmp/cairn1.t")
  c3=$(median <"$tmp/cairn3.t")
  awk -v mb="$mb" -v r="$rm" -v a="$c1" -v b="$c3" 'BEGIN {
    printf "%s MB medians: redis %d ms, cairn1 %d ms (%.2fx redis time), cairn3 %d ms (%.2fx)\n",
      mb, r, a, a / r, b, b / r }'
done
changes=$(cat "$tmp"/n?.log | grep -c "this node Leader" || true)
longest=$(cat "$tmp"/n?.log "$tmp/one.log" | grep -o "took [0-9]* ms" | awk '{print $2}' | sort -n |
  tail -1)
echo "cairn3: $((changes - 1)) leader change(s) after the first election; longest node-thread turn" \
  "logged: ${longest:-none over a quarter election timeout} ms"
for p in $redis_pid $one_pid "${three_pids[@]}"; do
  echo "pid $p $(tr '\0' ' ' </proc/$p/cmdline | cut -c1-40): $(grep VmHWM /proc/$p/status)"
done
