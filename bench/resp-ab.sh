#!/usr/bin/env bash
# Same-run A/B of two cairn-server binaries over the Redis protocol, with redis-benchmark.
#
# One node of each (--storage memory, the Redis front end on the node thread) runs at once on
# 127.0.0.1; for SET and GET, pipeline 1 and 16, 32-byte and 1 KiB values, the same
# redis-benchmark command (50 clients, 100000 random keys) runs against A, then B, ROUNDS times
# taking turns. Prints each run's ops/s and p99, then per combination the medians and B/A.
# With NODES=3, each binary runs a three-node cluster instead (the default --storage disk,
# --fsync always) and the load goes to its leader. Stops only the processes it started, by PID;
# data directories are under one mktemp -d.
#
#   [NODES=3] bench/resp-ab.sh A_BINARY B_BINARY [ROUNDS] [REQUESTS]   (default 3 and 200000)
set -euo pipefail
[[ $# -ge 2 ]] || { sed -n '2,12p' "$0"; exit 2; }
a_bin=$1
b_bin=$2
rounds=${3:-3}
requests=${4:-200000}
for b in "$a_bin" "$b_bin"; do [[ -x $b ]] || { echo "not an executable: $b" >&2; exit 2; }; done
command -v redis-benchmark >/dev/null || { echo "needs redis-benchmark (redis-tools)" >&2; exit 1; }
source "$(dirname "$0")/ports.sh"
base=17600
nodes=${NODES:-1}
[[ $nodes == 1 || $nodes == 3 ]] || { echo "NODES must be 1 or 3" >&2; exit 2; }
require_free_ports $base 40

tmp=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"' EXIT
# Starts binary $1's node or cluster, native ports from $2, Redis ports from $2 + 10; sets
# leader_port to the Redis port of the node to load (the leader).
start() {  # binary first_port dir
  local i peers="" storage=(--storage memory)
  if ((nodes > 1)); then
    storage=()
    for ((i = 1; i <= nodes; i++)); do peers+="${peers:+,}$i=127.0.0.1:$(($2 + i - 1))"; done
  fi
  for ((i = 1; i <= nodes; i++)); do
    mkdir -p "$3/n$i"
    "$1" --id $i --listen "127.0.0.1:$(($2 + i - 1))" --resp "127.0.0.1:$(($2 + 9 + i))" \
      ${peers:+--peers "$peers"} "${storage[@]}" --data-dir "$3/n$i" --log-level warn \
      >"$3/n$i.log" 2>&1 &
    pids+=($!)
  done
  for ((i = 1; i <= nodes; i++)); do wait_for_ping $(($2 + 9 + i)); done
  local _
  for _ in $(seq 100); do
    for ((i = 1; i <= nodes; i++)); do
      if redis-cli -p $(($2 + 9 + i)) info replication | grep -q "raft_role:leader"; then
        leader_port=$(($2 + 9 + i))
        return
      fi
    done
    sleep 0.1
  done
  echo "no leader among $1's nodes" >&2
  exit 1
}
start "$a_bin" $base "$tmp/a"
a_port=$leader_port
start "$b_bin" $((base + 20)) "$tmp/b"
b_port=$leader_port

# One run: prints "ops/s p99_ms" from redis-benchmark's --csv line.
bench() {  # port test pipeline bytes
  redis-benchmark -p "$1" -t "$2" -P "$3" -d "$4" -c 50 -r 100000 -n "$requests" --csv 2>/dev/null |
    awk -F, 'NR == 2 {gsub(/"/, ""); print $2, $7}'
}
median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2)}'; }

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; $nodes node(s) each; A=$a_bin B=$b_bin"
echo "test P bytes: A ops/s (p99 ms) | B ops/s (p99 ms) | B/A ops/s"
for t in set get; do
  for p in 1 16; do
    for d in 32 1024; do
      : >"$tmp/a.ops"
      : >"$tmp/b.ops"
      : >"$tmp/a.p99"
      : >"$tmp/b.p99"
      for ((r = 1; r <= rounds; r++)); do
        read -r ops p99 < <(bench "$a_port" $t $p $d)
        echo "$ops" >>"$tmp/a.ops"
        echo "$p99" >>"$tmp/a.p99"
        read -r ops p99 < <(bench "$b_port" $t $p $d)
        echo "$ops" >>"$tmp/b.ops"
        echo "$p99" >>"$tmp/b.p99"
      done
      ao=$(median <"$tmp/a.ops")
      bo=$(median <"$tmp/b.ops")
      awk -v t=$t -v p=$p -v d=$d -v ao="$ao" -v bo="$bo" -v ap="$(median <"$tmp/a.p99")" \
        -v bp="$(median <"$tmp/b.p99")" -v runs="$(paste -sd, "$tmp/a.ops") | $(paste -sd, "$tmp/b.ops")" \
        'BEGIN {printf "%s P%s %sB: %.0f (%.3f) | %.0f (%.3f) | %.2fx   [runs %s]\n", toupper(t), p, d, ao, ap, bo, bp, bo / ao, runs}'
    done
  done
done
