#!/usr/bin/env bash
# cairn vs redis-server with redis-benchmark, side by side in one run.
#
#   bench/compare-redis.sh [--quick] [--requests N] [--rounds N] [--server PATH] [--resp-threads N]
#
# Starts redis-server (--save '' --appendonly no), a single cairn node and a 3-node cairn cluster
# on free 127.0.0.1 ports, then for every combination of test (SET, GET, INCR, MSET), pipeline
# (1, 16) and value size (32, 1024 bytes) runs the same redis-benchmark command (50 clients,
# 100000 random keys) against each target in turn: Redis, cairn single node, the cluster through
# its leader and through a follower. Prints ops/s, p50 and p99 (ms) and the ratio to Redis, from
# redis-benchmark's --csv output. Stops only the processes it started, by PID.
#
# --quick: 20000 requests per run (a smoke run); default 200000 (MSET: a quarter of that, each
# MSET writes 10 keys). --rounds N: every measurement N times, the targets taking turns in each
# round, medians printed (default 1). --resp-threads: cairn's Redis I/O threads (default 0: the
# node thread).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
REQUESTS=200000
ROUNDS=1
SERVER=""
THREADS=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) REQUESTS=20000 ;;
    --requests) REQUESTS="$2"; shift
      [[ "$REQUESTS" =~ ^[1-9][0-9]*$ ]] || { echo "--requests $REQUESTS: expected a count >= 1" >&2; exit 2; } ;;
    --rounds) ROUNDS="$2"; shift
      [[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || { echo "--rounds $ROUNDS: expected a count >= 1" >&2; exit 2; } ;;
    --server) SERVER="$2"; shift ;;
    --resp-threads) THREADS="$2"; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [[ -z "$SERVER" ]]; then
  for b in build build-resp; do
    [[ -x "$ROOT/$b/tools/cairn-server/cairn-server" ]] && SERVER="$ROOT/$b/tools/cairn-server/cairn-server" && break
  done
fi
[[ -x "$SERVER" ]] || { echo "cairn-server not found; build it or pass --server PATH" >&2; exit 2; }
for tool in redis-server redis-benchmark redis-cli; do
  command -v "$tool" >/dev/null || { echo "$tool not installed (apt-get install redis-server)" >&2; exit 2; }
done

WORK="$(mktemp -d)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Waits (bounded) until the port answers PING.
wait_ping() {
  for _ in $(seq 200); do
    [[ "$(redis-cli -p "$1" PING 2>/dev/null)" == "PONG" ]] && return 0
    sleep 0.05
  done
  echo "nothing answers on port $1" >&2; exit 1
}

info_field() {  # port field
  redis-cli -p "$1" INFO replication 2>/dev/null | tr -d '\r' | sed -n "s/^$2://p"
}

REDIS_PORT=$(free_port)
redis-server --port "$REDIS_PORT" --save '' --appendonly no --dir "$WORK" \
  --logfile "$WORK/redis.log" &
PIDS+=($!)

start_cairn() {  # id listen resp peers dir
  local peers=()
  [[ -n "$4" ]] && peers=(--peers "$4")
  "$SERVER" --id "$1" --listen "127.0.0.1:$2" --resp "127.0.0.1:$3" --storage memory --data-dir "$5" \
    --resp-threads "$THREADS" --log-level warn "${peers[@]}" >>"$WORK/cairn.log" 2>&1 &
  PIDS+=($!)
}

SINGLE_PORT=$(free_port)
start_cairn 1 "$(free_port)" "$SINGLE_PORT" "" "$WORK/single"

declare -a CL_LISTEN CL_RESP
PEERS=""
for i in 1 2 3; do
  CL_LISTEN[$i]=$(free_port); CL_RESP[$i]=$(free_port)
  PEERS+="${PEERS:+,}$i=127.0.0.1:${CL_LISTEN[$i]}"
done
for i in 1 2 3; do start_cairn "$i" "${CL_LISTEN[$i]}" "${CL_RESP[$i]}" "$PEERS" "$WORK/c$i"; done

wait_ping "$REDIS_PORT"
wait_ping "$SINGLE_PORT"
for i in 1 2 3; do wait_ping "${CL_RESP[$i]}"; done
LEADER=0
for _ in $(seq 200); do
  LEADER=$(info_field "${CL_RESP[1]}" raft_leader_id)
  [[ -n "$LEADER" && "$LEADER" != 0 ]] && break
  sleep 0.1
done
[[ -n "$LEADER" && "$LEADER" != 0 ]] || { echo "the cluster elected no leader" >&2; exit 1; }
FOLLOWER=$(( LEADER % 3 + 1 ))

TARGETS=("redis:$REDIS_PORT" "cairn-1:$SINGLE_PORT" "cairn-3-leader:${CL_RESP[$LEADER]}"
         "cairn-3-follower:${CL_RESP[$FOLLOWER]}")

echo "redis-benchmark -c 50 -r 100000 -n $REQUESTS (MSET: $((REQUESTS / 4))) --csv; cairn --resp-threads $THREADS; median of $ROUNDS round(s)"
echo "$(redis-server --version | cut -d' ' -f1-3); $(nproc) cores; cairn: $SERVER"
printf '%-6s %3s %5s  %-17s %10s %8s %8s %7s\n' test P bytes target ops/s p50_ms p99_ms vs_redis
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print ""; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

for size in 32 1024; do
  for pipe in 1 16; do
    for test in set get incr mset; do
      n=$REQUESTS
      [[ $test == mset ]] && n=$((REQUESTS / 4))
      declare -A RPS=() P50=() P99=()
      # Rounds take turns across the targets, so a slow spell of the machine hits all of them.
      for ((round = 1; round <= ROUNDS; round++)); do
        for t in "${TARGETS[@]}"; do
          name=${t%%:*}; port=${t##*:}
          # "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
          line=$(redis-benchmark -p "$port" -t "$test" -n "$n" -c 50 -P "$pipe" -d "$size" \
                   -r 100000 --csv 2>>"$WORK/benchmark.err" | grep -v '^"test"' | tail -1 |
                   tr -d '"') || true
          [[ -z "$line" ]] && continue
          IFS=, read -r _ rps _ _ p50 _ p99 _ <<<"$line"
          RPS[$name]+=" $rps"; P50[$name]+=" $p50"; P99[$name]+=" $p99"
        done
      done
      redis_rps=$(median <<<"${RPS[redis]:-}")
      for t in "${TARGETS[@]}"; do
        name=${t%%:*}
        if [[ -z "${RPS[$name]:-}" ]]; then
          printf '%-6s %3s %5s  %-17s failed: %s\n' "${test^^}" "$pipe" "$size" "$name" \
            "$(tail -1 "$WORK/benchmark.err" | tr -d '\r')"
          continue
        fi
        rps=$(median <<<"${RPS[$name]}")
        ratio=$(awk -v a="$rps" -v b="$redis_rps" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
        printf '%-6s %3s %5s  %-17s %10.0f %8s %8s %7s\n' "${test^^}" "$pipe" "$size" "$name" \
          "$rps" "$(median <<<"${P50[$name]}")" "$(median <<<"${P99[$name]}")" "$ratio"
      done
      unset RPS P50 P99
    done
  done
done
