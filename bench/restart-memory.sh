#!/usr/bin/env bash
# Peak memory and time of a restart from a large snapshot: one cairn-server (--storage disk) on
# 127.0.0.1 is loaded with MB megabytes of incompressible 1 KiB values through redis-cli --pipe,
# so that its snapshot file holds about as much as its cache; it is stopped (SIGTERM) and started
# ROUNDS times (once the last snapshot build has finished). Each start is timed until DBSIZE gives the loaded count, and its peak resident
# memory (VmHWM) is read then. A start that read the snapshot whole into memory before filling
# the cache would peak near twice the data.
#
# The process is started here and stopped by PID; its data directory, under one mktemp -d
# directory, is removed at exit.
#
#   bench/restart-memory.sh [MB] [ROUNDS]      (default 400 and 3; needs build/ and redis-cli)
#   CAIRN_SERVER=path bench/restart-memory.sh ...   (another cairn-server binary, for an A/B)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/ports.sh
S=${CAIRN_SERVER:-build/tools/cairn-server/cairn-server}
mb=${1:-400}
rounds=${2:-3}
[[ "$mb" =~ ^[1-9][0-9]*$ ]] || { echo "MB must be a positive number, not '$mb'" >&2; exit 2; }
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "ROUNDS must be a positive number" >&2; exit 2; }
[[ -x "$S" ]] || { echo "no $S: build first (ninja -C build cairn-server)" >&2; exit 1; }
port=16591
require_free_ports $port 1
require_free_ports 19591 1
keys=$((mb * 1024))
d=$(mktemp -d)
pid=
cleanup() {
  [[ -n $pid ]] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -rf "$d"
}
trap cleanup EXIT
start() {
  "$S" --resp 127.0.0.1:$port --listen 127.0.0.1:19591 --storage disk --data-dir "$d/data" \
    --log-level info >>"$d/log" 2>&1 &
  pid=$!
}
stop() {
  kill -TERM "$pid"
  wait "$pid" || true
  pid=
}
start
wait_for_ping $port
echo "loading $keys keys of 1 KiB incompressible values ($mb MB)"
load_random_values $port "$keys"
echo "after the load: $(grep -E '^VmHWM' /proc/$pid/status | tr -s ' \t' ' ')"
# Let a snapshot build under way finish (no new "built in" line for 5 s; at most 60 s), so that
# what a restart reads does not depend on how far the last build got.
last=-1 quiet=0
for _ in $(seq 60); do
  n=$(grep -c "built in" "$d/log" || true)
  if [[ $n == "$last" ]]; then quiet=$((quiet + 1)); else quiet=0 last=$n; fi
  ((quiet >= 5)) && break
  sleep 1
done
stop
echo "data directory: snapshot $(du -cb "$d"/data/snap/*.snap | tail -1 | cut -f1) bytes," \
  "log $(du -cb "$d"/data/wal/*.wal | tail -1 | cut -f1) bytes"
for ((r = 1; r <= rounds; r++)); do
  t0=$(date +%s%N)
  start
  for _ in $(seq 1200); do  # at most 60 s
    [[ $(redis-cli -p $port dbsize 2>/dev/null) == "$keys" ]] && break
    sleep 0.05
  done
  [[ $(redis-cli -p $port dbsize 2>/dev/null) == "$keys" ]] || { echo "not ready after 60 s" >&2; exit 1; }
  echo "restart $r: ready in $((($(date +%s%N) - t0) / 1000000)) ms," \
    "$(grep -E '^Vm(HWM|RSS)' /proc/$pid/status | tr -s ' \t' ' ' | tr '\n' ' ')"
  stop
done
