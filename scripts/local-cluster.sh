#!/usr/bin/env bash
# Runs a local cairn cluster on 127.0.0.1 for trying things out.
#
#   scripts/local-cluster.sh start [N]   N nodes (default 3): native ports 9001.., Redis 6381..
#   scripts/local-cluster.sh status      which nodes run, and the cluster as node 1 sees it
#   scripts/local-cluster.sh stop        SIGTERM to every node started here, by PID
#   scripts/local-cluster.sh wipe        deletes the stopped cluster's data, logs and PID files
#
# The nodes keep their log and snapshots on disk (--storage disk), so 'stop' then 'start' with
# the same N brings the same cluster and its data back; 'wipe' starts over. State (PID files,
# logs, data directories) lives in $CAIRN_CLUSTER_DIR (default ./local-cluster). The binaries
# come from $CAIRN_BUILD_DIR (default ./build); build them first (scripts/run-server.sh or
# scripts/test.sh builds them there).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${CAIRN_CLUSTER_DIR:-local-cluster}
build=${CAIRN_BUILD_DIR:-build}
server="$build/tools/cairn-server/cairn-server"
cli="$build/tools/cairn-cli/cairn-cli"

usage() {
  echo "usage: $0 start [N] | status | stop | wipe" >&2
  exit 2
}

alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

start() {
  local n=${1:-3}
  [[ "$n" =~ ^[1-9][0-9]?$ ]] || { echo "N must be a number from 1 to 99, not '$n'" >&2; exit 2; }
  [[ -x "$server" ]] || { echo "no $server: build first (scripts/run-server.sh builds it)" >&2; exit 1; }
  mkdir -p "$dir"
  for pidfile in "$dir"/node-*.pid; do
    if alive "$pidfile"; then
      echo "a cluster is already running here ($pidfile); run '$0 stop' first" >&2
      exit 1
    fi
  done
  local peers=""
  for ((i = 1; i <= n; i++)); do peers+="${peers:+,}$i=127.0.0.1:$((9000 + i))"; done
  for ((i = 1; i <= n; i++)); do
    "$server" --id "$i" --listen "127.0.0.1:$((9000 + i))" --resp "127.0.0.1:$((6380 + i))" \
      --peers "$peers" --data-dir "$dir/data-$i" --storage disk >>"$dir/node-$i.log" 2>&1 &
    echo $! >"$dir/node-$i.pid"
  done
  echo "started $n nodes: native 127.0.0.1:9001..$((9000 + n)), Redis 127.0.0.1:6381..$((6380 + n))"
  echo "logs and PID files in $dir/"
  if [[ -x "$cli" ]]; then
    for _ in $(seq 1 50); do
      if "$cli" --addr 127.0.0.1:9001 status 2>/dev/null | grep -q "leader_id: [1-9]"; then break; fi
      sleep 0.1
    done
    "$cli" --addr 127.0.0.1:9001 status || true
  fi
}

status() {
  local any=0
  for pidfile in "$dir"/node-*.pid; do
    [[ -f "$pidfile" ]] || continue
    any=1
    local name
    name=$(basename "$pidfile" .pid)
    if alive "$pidfile"; then echo "$name: running (pid $(cat "$pidfile"))"; else echo "$name: stopped"; fi
  done
  [[ $any == 1 ]] || { echo "no cluster started in $dir"; return 0; }
  if [[ -x "$cli" ]]; then "$cli" --addr 127.0.0.1:9001 status || true; fi
}

stop() {
  local pids=()
  for pidfile in "$dir"/node-*.pid; do
    [[ -f "$pidfile" ]] || continue
    if alive "$pidfile"; then
      kill -TERM "$(cat "$pidfile")"
      pids+=("$(cat "$pidfile")")
    fi
    rm -f "$pidfile"
  done
  # Graceful shutdown is bounded (a leader hands over first); wait for it, then insist.
  for _ in $(seq 1 150); do
    local left=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && left=1; done
    [[ $left == 0 ]] && break
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && kill -KILL "$p" || true; done
  echo "stopped ${#pids[@]} node(s)"
}

wipe() {
  for pidfile in "$dir"/node-*.pid; do
    if alive "$pidfile"; then
      echo "node $(basename "$pidfile" .pid) still runs; run '$0 stop' first" >&2
      exit 1
    fi
  done
  [[ -d "$dir" ]] || { echo "nothing to wipe in $dir"; return 0; }
  rm -rf -- "$dir"/data-* "$dir"/node-*.log "$dir"/node-*.pid
  rmdir -- "$dir" 2>/dev/null || true
  echo "wiped $dir"
}

case "${1:-}" in
  start) start "${2:-3}" ;;
  status) status ;;
  stop) stop ;;
  wipe) wipe ;;
  *) usage ;;
esac
