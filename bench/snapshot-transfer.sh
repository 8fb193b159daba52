#!/usr/bin/env bash
# Snapshot transfer of a large state: a 3-node cluster on 127.0.0.1 (--storage STORAGE: memory,
# the default, or disk) is loaded with MB megabytes of incompressible 1 KiB values; one follower
# is killed (kill -9) and started again empty (with disk, its data directory is wiped first: a
# lost disk), so the leader must send it the whole state as a snapshot. Reported: the snapshot's
# size, the transfer's time and throughput (from the leader's log), the time until the follower
# holds every key, each node's resident memory, and the Redis GET latency on the leader measured
# with redis-benchmark before and during the transfer (50 clients), and the restarted follower's
# peak resident memory (VmHWM) once it holds every key, and the leader's before the kill and
# after the transfer. Every process is started here and stopped
# by PID; the temporary data directories are removed.
#
#   bench/snapshot-transfer.sh [MB] [STORAGE]   (default 1024 memory; needs build/, redis-cli,
#                                                redis-benchmark)
#   CAIRN_SERVER=path bench/snapshot-transfer.sh ...   (another cairn-server binary, for an A/B)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/ports.sh
S=${CAIRN_SERVER:-build/tools/cairn-server/cairn-server}
mb=${1:-1024}
storage=${2:-memory}
[[ "$mb" =~ ^[1-9][0-9]*$ ]] || { echo "MB must be a positive number, not '$mb'" >&2; exit 2; }
[[ $storage == memory || $storage == disk ]] || { echo "STORAGE is memory or disk" >&2; exit 2; }
keys=$((mb * 1024))
d=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$d"
}
trap cleanup EXIT
peers="1=127.0.0.1:19201,2=127.0.0.1:19202,3=127.0.0.1:19203"
start_node() { # id
  $S --id "$1" --listen "127.0.0.1:1920$1" --resp "127.0.0.1:1640$1" --peers $peers \
    --storage "$storage" --data-dir "$d/n$1" --log-level info >>"$d/log$1" 2>&1 &
  pids[$1]=$!
}
# A /proc/PID/status field (VmRSS: resident now; VmHWM: peak) in MB.
status_mb() { echo $(($(awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status") / 1024)); }
rss_mb() { status_mb "$1" VmRSS; }
hwm_mb() { status_mb "$1" VmHWM; }
wait_for() { # seconds command...
  local until=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < until)) || return 1
    sleep 0.2
  done
}
leader_port() {
  for i in 1 2 3; do
    if redis-cli -p 1640$i info replication 2>/dev/null | grep -q "raft_role:leader"; then
      echo 1640$i
      return 0
    fi
  done
  return 1
}
latency() { # port -> "p50 p99 rps" of 200k GETs
  redis-benchmark -p "$1" -c 50 -n 200000 -t get -r "$keys" 2>/dev/null | tr '\r' '\n' |
    awk '/^ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ *$/ {line=$0} /throughput summary/ {rps=$3}
         END {split(line, f, " "); print "p50 " f[3] " ms, p99 " f[5] " ms, " rps " GET/s"}'
}

for i in 1 2 3; do start_node $i; done
wait_for 20 leader_port >/dev/null || { echo "no leader"; exit 1; }
lp=$(leader_port)
lead=${lp: -1}
echo "loading $keys keys of 1 KiB incompressible values ($mb MB) through node $lead"
started=$SECONDS
load_random_values "$lp" "$keys" >/dev/null
echo "loaded in $((SECONDS - started)) s; DBSIZE on the leader: $(redis-cli -p "$lp" dbsize)"
f=$((lead % 3 + 1))
wait_for 120 bash -c "[[ \$(redis-cli -p 1640$f dbsize) == $keys ]]" || { echo "follower $f never caught up"; exit 1; }
echo "before:  GET on the leader: $(latency "$lp")"
echo "resident memory before: leader $(rss_mb "${pids[$lead]}") MB, follower $(rss_mb "${pids[$f]}") MB"

echo "peak resident memory of the leader before: $(hwm_mb "${pids[$lead]}") MB"
kill -KILL "${pids[$f]}"
wait "${pids[$f]}" 2>/dev/null || true
if [[ $storage == disk ]]; then rm -rf "$d/n$f"; fi
t0=$(date +%s.%N)
start_node "$f"
latency "$lp" >"$d/during" &
lat=$!
wait_for 600 bash -c "[[ \$(redis-cli -p 1640$f dbsize 2>/dev/null) == $keys ]]" ||
  { echo "follower $f did not catch up in 600 s"; tail -20 "$d/log$lead"; exit 1; }
t1=$(date +%s.%N)
wait "$lat"
echo "during:  GET on the leader: $(cat "$d/during")"
line=$(grep "snapshot delivered to node $f" "$d/log$lead" | tail -1)
bytes=$(sed -E 's/.*\(([0-9]+) bytes in ([0-9]+) ms\).*/\1/' <<<"$line")
ms=$(sed -E 's/.*\(([0-9]+) bytes in ([0-9]+) ms\).*/\2/' <<<"$line")
echo "snapshot: $((bytes / 1048576)) MiB in $ms ms: $(awk -v b="$bytes" -v m="$ms" 'BEGIN {printf "%.0f", b / 1048576 / (m / 1000)}') MiB/s"
echo "restart to every key on the follower: $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s"
echo "transfers started by the leader: $(grep -c "sending snapshot" "$d/log$lead"), failed: $(grep -c "snapshot transfer .* failed" "$d/log$lead" || true)"
echo "resident memory after: leader $(rss_mb "${pids[$lead]}") MB, follower $(rss_mb "${pids[$f]}") MB"
echo "peak resident memory of the restarted follower: $(hwm_mb "${pids[$f]}") MB, of the leader: $(hwm_mb "${pids[$lead]}") MB"
