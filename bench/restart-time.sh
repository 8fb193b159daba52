#!/usr/bin/env bash
# Restart time of one node holding 1,000,000 keys (16-byte keys, 32-byte values), next to
# redis-server with the same data in the same run.
#
# One cairn-server --storage disk (--fsync always) on 127.0.0.1 is loaded with SETs through
# redis-cli --pipe (keys key:000000000000 .. key:000000999999, values 32 random hex digits),
# DBSIZE is checked, then the node is restarted ROUNDS times after a graceful stop (SIGTERM) and
# ROUNDS times after kill -9. A restart is timed from the moment the process is started until it
# answers GET of a known key with its value and DBSIZE 1000000 (polled, one redis-cli per poll).
# The same for a node whose keys are all still in its log (no snapshot yet: --compact-bytes
# 128mb), for redis-server with AOF (--appendonly yes --appendfsync everysec, no automatic rewrite,
# so every restart replays the 1M SETs as cairn-log does; with rewrites on, the rewrite a restart
# starts is cut short by the next stop) and with an RDB file (SAVE after the load, no AOF).
# Printed per restart and as medians: the data directory's size, the time, dir bytes / time in
# MB/s (10^6 bytes), and the process's peak resident memory once it serves (VmHWM, MB); cairn /
# redis as ratios of the medians.
#
# Every process is started here and stopped by its PID; the data directories are under one
# mktemp -d directory, removed at exit.
#
#   bench/restart-time.sh [ROUNDS] [KEYS]   (default 3 and 1000000; needs build/ with
#                                            cairn-server, redis-server, redis-cli)
#   CAIRN_SERVER=path bench/restart-time.sh ...   (another cairn-server binary, for an A/B)
set -euo pipefail
cd "$(dirname "$0")/.."
S=${CAIRN_SERVER:-build/tools/cairn-server/cairn-server}
rounds=${1:-3}
keys=${2:-1000000}
cairn_port=16491
cairn_listen=127.0.0.1:19491
redis_port=16492
ready_limit_s=120  # a restart slower than this is a failure, not a figure
load_limit_s=600

[[ -x $S ]] || { echo "missing $S (ninja -C build cairn-server)" >&2; exit 1; }
if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
  echo "needs redis-server and redis-cli (apt-get install redis-server redis-tools)" >&2
  exit 1
fi
for p in $cairn_port ${cairn_listen##*:} $redis_port; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    echo "port $p is in use" >&2
    exit 1
  fi
done

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
tmp=$(mktemp -d)
pid=""
cleanup() {
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid" 2>/dev/null || true
    { wait "$pid" || true; } 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

now_ns() { date +%s%N; }

# Values are 32 hex digits from a seeded generator (not compressible to nothing, as zeros would
# be); the known key is the middle one, its value written aside by the generator.
mid=$((keys / 2))
known_key=$(printf 'key:%012d' "$mid")
echo "generating $keys SETs..." >&2
awk -v n="$keys" -v mid="$mid" -v known="$tmp/known" 'BEGIN {
  srand(1)
  for (i = 0; i < n; i++) {
    v = ""
    for (j = 0; j < 4; j++) v = v sprintf("%08x", int(rand() * 4294967296))
    printf "*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$32\r\n%s\r\n", i, v
    if (i == mid) print v > known
  }
}' >"$tmp/load.resp"
known_val=$(cat "$tmp/known")
[[ ${#known_val} == 32 ]] || { echo "generator failed" >&2; exit 1; }

# Polls until the server on port $1 answers GET known_key with known_val and DBSIZE = keys, or
# until `limit` seconds after the start at $2 (ns). Prints the elapsed ms, or fails.
wait_ready() {
  local port=$1 t0=$2 limit=${3:-$ready_limit_s} out
  local deadline=$((t0 + limit * 1000000000))
  while :; do
    out=$(printf 'GET %s\nDBSIZE\n' "$known_key" | timeout 10 redis-cli -p "$port" 2>/dev/null |
      tr -d '\r' | paste -sd' ' || true)
    if [[ $out == "$known_val $keys" ]]; then
      echo $((($(now_ns) - t0) / 1000000))
      return 0
    fi
    if (($(now_ns) > deadline)); then
      echo "port $port not ready after ${limit}s (last answer: '$out')" >&2
      return 1
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "the server on port $port exited before it was ready" >&2
      return 1
    fi
    sleep 0.005
  done
}

# Waits for process $pid to exit, at most $1 seconds; kill -9 after that (and fails).
wait_exit() {
  local limit=$1 i
  for ((i = 0; i < limit * 100; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      { wait "$pid" || true; } 2>/dev/null
      pid=""
      return 0
    fi
    sleep 0.01
  done
  echo "pid $pid did not exit within ${limit}s; killed" >&2
  kill -9 "$pid" 2>/dev/null || true
  { wait "$pid" || true; } 2>/dev/null
  pid=""
  return 1
}

start_cairn() {  # data dir
  "$S" --resp "127.0.0.1:$cairn_port" --listen "$cairn_listen" --storage disk --data-dir "$1" \
    --log-level info >>"$tmp/cairn.log" 2>&1 &
  pid=$!
}
# The same with every key still in the log: no compaction before 128 MiB of log (the default,
# 64 MiB, snapshots once during a 1M-key load), so a restart replays about 1M SETs, the most a
# default node's log can hold past its last snapshot.
start_cairn_log() {  # data dir
  "$S" --resp "127.0.0.1:$cairn_port" --listen "$cairn_listen" --storage disk --data-dir "$1" \
    --compact-bytes 128mb --log-level info >>"$tmp/cairn.log" 2>&1 &
  pid=$!
}
start_redis_aof() {  # dir
  redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$1" --appendonly yes \
    --appendfsync everysec --auto-aof-rewrite-percentage 0 --save "" --daemonize no \
    >>"$tmp/redis.log" 2>&1 &
  pid=$!
}
start_redis_rdb() {  # dir
  redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$1" --appendonly no --save "" \
    --daemonize no >>"$tmp/redis.log" 2>&1 &
  pid=$!
}

results=()  # "name mode ms bytes peak-MB"

# $1 name, $2 start function, $3 port, $4 data dir, $5 command after the load (or "")
measure() {
  local name=$1 start=$2 port=$3 dir=$4 after=$5 t0 ms bytes n mode
  mkdir -p "$dir"
  "$start" "$dir"
  wait_ready_empty "$port"
  echo "$name: loading $keys keys..." >&2
  t0=$(now_ns)
  timeout "$load_limit_s" redis-cli -p "$port" --pipe <"$tmp/load.resp" >"$tmp/pipe.out" 2>&1 ||
    { cat "$tmp/pipe.out" >&2; return 1; }
  n=$(timeout 60 redis-cli -p "$port" DBSIZE | tr -d '\r')
  [[ $n == "$keys" ]] || { echo "$name: DBSIZE $n after the load, expected $keys" >&2; return 1; }
  echo "$name: loaded in $((($(now_ns) - t0) / 1000000)) ms; DBSIZE $n" >&2
  if [[ -n $after ]]; then timeout "$load_limit_s" redis-cli -p "$port" "$after" >/dev/null; fi
  for ((r = 1; r <= rounds; r++)); do
    for mode in term kill; do
      if [[ $mode == term ]]; then
        kill -TERM "$pid"
        wait_exit 60
      else
        kill -9 "$pid"
        wait_exit 10
      fi
      bytes=$(du -sb "$dir" | cut -f1)
      t0=$(now_ns)
      "$start" "$dir"
      ms=$(wait_ready "$port" "$t0")
      peak=$(awk '/^VmHWM/ { printf "%d", $2 / 1024 }' "/proc/$pid/status")
      results+=("$name $mode $ms $bytes $peak")
      echo "$name after $mode: ready in $ms ms, $bytes bytes in $dir, $(mbps "$bytes" "$ms") MB/s," \
        "peak RSS $peak MB" >&2
    done
  done
  kill -TERM "$pid"
  wait_exit 60
}

# Polls until port $1 answers PING (a fresh, empty server).
wait_ready_empty() {
  local deadline=$(($(now_ns) + 30 * 1000000000))
  until [[ $(timeout 5 redis-cli -p "$1" PING 2>/dev/null | tr -d '\r') == PONG ]]; do
    (($(now_ns) < deadline)) || { echo "port $1 never answered PING" >&2; return 1; }
    sleep 0.01
  done
}

mbps() { awk -v b="$1" -v ms="$2" 'BEGIN { printf "%.1f", (ms > 0 ? b / 1e6 / (ms / 1e3) : 0) }'; }

median() {  # name mode field (3: ms, 4: bytes, 5: peak RSS MB)
  printf '%s\n' "${results[@]}" | awk -v n="$1" -v m="$2" -v f="$3" '$1 == n && $2 == m { print $f }' |
    sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

measure cairn start_cairn "$cairn_port" "$tmp/cairn" ""
measure cairn-log start_cairn_log "$cairn_port" "$tmp/cairn-log" ""
measure redis-aof start_redis_aof "$redis_port" "$tmp/redis-aof" ""
measure redis-rdb start_redis_rdb "$redis_port" "$tmp/redis-rdb" "SAVE"

grep -E "restored from|snapshot at index .* on disk|torn|warn" "$tmp/cairn.log" | tail -4 >&2 || true

echo
echo "restart until GET and DBSIZE answer ($keys keys, 16-byte keys, 32-byte values); median of $rounds"
echo "load average before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)"
printf '%-10s %-5s %10s %12s %8s %8s %14s %14s\n' server stop ms dir-bytes MB/s peak-MB vs-redis-aof \
  vs-redis-rdb
for mode in term kill; do
  aof=$(median redis-aof "$mode" 3)
  rdb=$(median redis-rdb "$mode" 3)
  for name in cairn cairn-log redis-aof redis-rdb; do
    ms=$(median "$name" "$mode" 3)
    bytes=$(median "$name" "$mode" 4)
    printf '%-10s %-5s %10s %12s %8s %8s %14s %14s\n' "$name" "$mode" "$ms" "$bytes" \
      "$(mbps "$bytes" "$ms")" "$(median "$name" "$mode" 5)" \
      "$(awk -v a="$ms" -v b="$aof" 'BEGIN { printf "%.2fx", a / b }')" \
      "$(awk -v a="$ms" -v b="$rdb" 'BEGIN { printf "%.2fx", a / b }')"
  done
done
