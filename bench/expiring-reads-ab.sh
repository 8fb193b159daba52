#!/usr/bin/env bash
# Same-run A/B of two cairn-server binaries on the read path's worst case for expiry: keys that
# expire all the time. Each binary runs a three-node cluster (--storage disk, --fsync always) on
# 127.0.0.1; through its leader, 10 clients keep writing keys with a 50 ms TTL (PSETEX over 20,000
# random keys) while 40 clients GET random keys of the same space (redis-benchmark, pipeline 1).
# A and B take turns, ROUNDS times; prints each run's GET ops/s, p50 and p99 (ms), then B/A.
# Stops only the processes it started, by PID; data directories are under one mktemp -d.
#
#   bench/expiring-reads-ab.sh A_BINARY B_BINARY [ROUNDS]   (default 3)
set -euo pipefail
[[ $# -ge 2 ]] || { sed -n '2,9p' "$0"; exit 2; }
a_bin=$1
b_bin=$2
rounds=${3:-3}
for b in "$a_bin" "$b_bin"; do [[ -x $b ]] || { echo "not an executable: $b" >&2; exit 2; }; done
command -v redis-benchmark >/dev/null || { echo "needs redis-benchmark (redis-tools)" >&2; exit 1; }
source "$(dirname "$0")/ports.sh"
base=17700
require_free_ports $base 20

tmp=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"' EXIT

# Runs one round on binary $1 (label $2): prints "label ops/s p50 p99".
one_round() {
  local bin=$1 label=$2 dir peers leader="" i p
  dir=$(mktemp -d "$tmp/run.XXXX")
  peers="1=127.0.0.1:$((base + 1)),2=127.0.0.1:$((base + 2)),3=127.0.0.1:$((base + 3))"
  local started=()
  for i in 1 2 3; do
    "$bin" --id $i --listen 127.0.0.1:$((base + i)) --resp 127.0.0.1:$((base + 10 + i)) \
      --peers "$peers" --data-dir "$dir/n$i" >"$dir/log$i" 2>&1 &
    started+=($!)
    pids+=($!)
  done
  for _ in $(seq 100); do
    for i in 1 2 3; do
      p=$((base + 10 + i))
      if redis-cli -p $p info replication 2>/dev/null | grep -q "role:master"; then leader=$p; fi
    done
    [[ -n $leader ]] && break
    sleep 0.2
  done
  [[ -n $leader ]] || { echo "no leader in 20 s" >&2; exit 1; }
  redis-benchmark -p "$leader" -c 10 -n 40000 -r 20000 -q psetex key:__rand_int__ 50 vvvvvvvv \
    >/dev/null 2>&1 &
  local writer=$!
  pids+=($writer)
  sleep 0.3
  # CSV: "test","rps","avg","min","p50","p95","p99","max"
  local line
  line=$(redis-benchmark -p "$leader" -c 40 -n 100000 -r 20000 --csv get key:__rand_int__ | tail -1)
  wait "$writer" || true
  IFS=, read -r _ rps _ _ p50 _ p99 _ <<<"${line//\"/}"
  echo "$label $rps $p50 $p99"
  for p in "${started[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${started[@]}"; do wait "$p" 2>/dev/null || true; done
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); A=$a_bin B=$b_bin"
results=()
for r in $(seq "$rounds"); do
  results+=("$(one_round "$a_bin" A)")
  echo "${results[-1]}"
  results+=("$(one_round "$b_bin" B)")
  echo "${results[-1]}"
done
printf '%s\n' "${results[@]}" | awk '
  { n[$1]++; ops[$1, n[$1]] = $2 }
  END {
    for (s in n) { m = n[s]; for (i = 1; i <= m; i++) v[i] = ops[s, i];
      for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
      med[s] = (m % 2) ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2 }
    printf "GET ops/s median: A %.0f, B %.0f, B/A %.2fx\n", med["A"], med["B"], med["B"] / med["A"]
  }'
