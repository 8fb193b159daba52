#!/usr/bin/env bash
# Durable cairn next to durable peers, measured in the same run, taking turns:
#
#  single   one cairn node (--storage disk --fsync always) vs redis-server 7.0
#           (--appendonly yes --appendfsync always): redis-benchmark SET, 50 clients,
#           pipeline 1 and 16.
#  cluster  three cairn nodes (--fsync always) vs three cairn nodes (--fsync never) vs a
#           three-member etcd 3.4 (default fsync): SET / put and linearizable GET / range,
#           50 clients, one request in flight each; cairn through its leader with
#           redis-benchmark (and cairn-bench, the native protocol), etcd through its leader with
#           bench/etcd-load.py (gRPC). Also SET at pipeline 16, fsync always vs never.
#
# Same key space (100000 keys "key:NNNNNNNNNNNN", redis-benchmark -r) and 32-byte values
# everywhere; the keys are loaded before the reads. Each round runs every target once, in turn
# (A, B, A, B ...). Prints every measurement and, at the end, the ratios per round with their
# median and range.
#
#   bench/durable-peers.sh [--rounds N] [--quick] [--only single|cluster] [--server PATH] [--bench PATH]
#
# Needs (Debian 12): redis-server redis-tools etcd-server etcd-client python3-grpcio python3-etcd3
# (apt-get install -y ...), and cairn-server / cairn-bench built in ./build. Every process is
# started here on 127.0.0.1, stopped by PID; the temporary directories are removed. Every client
# run is bounded by `timeout`.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ROUNDS=""
QUICK=0
ONLY=""
SERVER="$ROOT/build/tools/cairn-server/cairn-server"
BENCH="$ROOT/build/tools/cairn-bench/cairn-bench"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) ROUNDS="$2"; shift
      [[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || { echo "--rounds $ROUNDS: expected a count >= 1" >&2; exit 2; } ;;
    --quick) QUICK=1 ;;
    --only) ONLY="$2"; shift
      [[ "$ONLY" == single || "$ONLY" == cluster ]] || { echo "--only single|cluster" >&2; exit 2; } ;;
    --server) SERVER="$2"; shift ;;
    --bench) BENCH="$2"; shift ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
for b in "$SERVER" "$BENCH"; do
  [[ -x "$b" ]] || { echo "missing $b: ninja -C build cairn-server cairn-bench" >&2; exit 2; }
done
for tool in redis-server redis-benchmark redis-cli etcd etcdctl; do
  command -v "$tool" >/dev/null || { echo "$tool not installed (apt-get install -y redis-server redis-tools etcd-server etcd-client)" >&2; exit 2; }
done
PY=/usr/bin/python3
$PY -c 'import grpc, etcd3.etcdrpc' 2>/dev/null ||
  { echo "$PY lacks grpc / etcd3 (apt-get install -y python3-grpcio python3-etcd3)" >&2; exit 2; }

# Requests per redis-benchmark run and seconds per etcd / cairn-bench run.
N1=100000; N16=400000; NGET=150000; SECS=10
if ((QUICK)); then N1=20000; N16=80000; NGET=30000; SECS=3; ROUNDS=${ROUNDS:-1}; fi
ROUNDS=${ROUNDS:-3}
KEYS=100000

WORK="$(mktemp -d /tmp/durable-peers.XXXXXX)"
PIDS=()
stop_pids() {  # pid... : SIGTERM, up to 10 s, then SIGKILL
  local p
  for p in "$@"; do kill "$p" 2>/dev/null || true; done
  for p in "$@"; do
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
}
cleanup() {
  local rc=$?
  if ((rc != 0)); then  # a client or server failed: show why before the directory goes
    for f in "$WORK"/*.err "$WORK"/*.log; do [[ -s "$f" ]] && { echo "== $f"; tail -5 "$f"; }; done >&2
  fi
  stop_pids "${PIDS[@]}"
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ping() {  # port
  for _ in $(seq 300); do
    [[ "$(redis-cli -p "$1" PING 2>/dev/null)" == "PONG" ]] && return 0
    sleep 0.05
  done
  echo "nothing answers on port $1" >&2; exit 1
}
cpu_ticks() {  # pid... -> utime+stime of all, in clock ticks
  local t=0 p
  for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
  echo "$t"
}
HZ=$(getconf CLK_TCK)
RESULTS="$WORK/results.tsv"   # round section target workload pipe ops p50 p99 note
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RESULTS"; printf '%-8s r%-2s %-14s %-10s P%-3s %10s ops/s  p50 %7s ms  p99 %7s ms  %s\n' "$2" "$1" "$3" "$4" "$5" "$6" "$7" "$8" "${9:-}"; }

# redis-benchmark -> "ops p50 p99" (ms)
rb() {  # port test pipe n
  timeout 300 redis-benchmark -h 127.0.0.1 -p "$1" -c 50 -n "$4" -r "$KEYS" -d 32 -P "$3" -t "$2" --csv 2>>"$WORK/rb.err" |
    grep -v '^"test"' | tail -1 | tr -d '"' | awk -F, '{ printf "%.0f %s %s\n", $2, $5, $7 }'
}
# cairn-bench (native protocol) -> "ops p50 p99" (ms)
cb() {  # addr read_ratio
  timeout 120 "$BENCH" --addr "$1" --connections 50 --pipeline 1 --keys "$KEYS" --value-size 32 \
    --read-ratio "$2" --duration "${SECS}s" --json 2>>"$WORK/cb.err" |
    $PY -c 'import json,sys; d=json.load(sys.stdin); l=d["latency_us"]; print(int(d["ops_per_sec"]), round(l["p50"]/1000, 3), round(l["p99"]/1000, 3))'
}

start_cairn() {  # name id listen resp peers fsync
  local peers=()
  [[ -n "$5" ]] && peers=(--peers "$5")
  "$SERVER" --id "$2" --listen "127.0.0.1:$3" --resp "127.0.0.1:$4" "${peers[@]}" \
    --storage disk --fsync "$6" --data-dir "$WORK/$1" --log-level warn >"$WORK/$1.log" 2>&1 &
  PIDS+=($!)
}
cairn_leader_port() {  # resp ports... -> the leader's
  local p
  for _ in $(seq 100); do
    for p in "$@"; do
      redis-cli -p "$p" INFO replication 2>/dev/null | tr -d '\r' | grep -q '^raft_role:leader$' && { echo "$p"; return 0; }
    done
    sleep 0.1
  done
  echo "no cairn leader among $*" >&2; exit 1
}
# Loads key:000000000000 .. key:000000099999 (redis-benchmark's key names) and key:0 .. key:99999
# (cairn-bench's) with 32-byte values through redis-cli --pipe.
load_cairn() {  # port
  $PY - "$KEYS" >"$WORK/load.resp" <<'EOF'
import sys
n = int(sys.argv[1]); v = b"x" * 32; out = sys.stdout.buffer
for i in range(n):
    for k in (b"key:%012d" % i, b"key:%d" % i):
        out.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$32\r\n%s\r\n" % (len(k), k, v))
EOF
  timeout 300 redis-cli -p "$1" --pipe <"$WORK/load.resp" >/dev/null
}

echo "# $(date -u +%FT%TZ); $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# cairn: $SERVER; $(redis-server --version | cut -d' ' -f1-3); etcd $(etcd --version | sed -n 's/^etcd Version: //p')"
echo "# redis-benchmark -c 50 -r $KEYS -d 32 (SET P1 -n $N1, P16 -n $N16, GET -n $NGET); etcd-load / cairn-bench: 50 clients, ${SECS} s"

# ---------------------------------------------------------------- one node vs redis AOF always
if [[ "$ONLY" != cluster ]]; then
  mkdir -p "$WORK/redis"
  RPORT=$(free_port)
  redis-server --port "$RPORT" --bind 127.0.0.1 --dir "$WORK/redis" --save '' \
    --appendonly yes --appendfsync always --logfile "$WORK/redis.log" &
  RPID=$!; PIDS+=($RPID)
  CPORT=$(free_port)
  start_cairn single 1 "$(free_port)" "$CPORT" "" always
  CPID=${PIDS[-1]}
  wait_ping "$RPORT"; wait_ping "$CPORT"; cairn_leader_port "$CPORT" >/dev/null
  for ((r = 1; r <= ROUNDS; r++)); do
    for P in 1 16; do
      n=$N1; ((P == 16)) && n=$N16
      read -r o a b < <(rb "$RPORT" set "$P" "$n"); record "$r" single redis-aof SET "$P" "$o" "$a" "$b"
      read -r o a b < <(rb "$CPORT" set "$P" "$n"); record "$r" single cairn-always SET "$P" "$o" "$a" "$b"
    done
  done
  stop_pids "$RPID" "$CPID"
fi

# ---------------------------------------------------------------- three nodes vs etcd
if [[ "$ONLY" != single ]]; then
  declare -A LEAD
  for mode in always never; do
    peers="" ; declare -a L=() R=()
    for i in 1 2 3; do L[$i]=$(free_port); R[$i]=$(free_port); peers+="${peers:+,}$i=127.0.0.1:${L[$i]}"; done
    for i in 1 2 3; do start_cairn "c-$mode-$i" "$i" "${L[$i]}" "${R[$i]}" "$peers" "$mode"; done
    for i in 1 2 3; do wait_ping "${R[$i]}"; done
    LEAD[$mode]=$(cairn_leader_port "${R[1]}" "${R[2]}" "${R[3]}")
    for i in 1 2 3; do
      [[ "${R[$i]}" == "${LEAD[$mode]}" ]] && LEAD[$mode-native]="127.0.0.1:${L[$i]}"
    done
  done
  cluster="" ; EPS="" ; EPIDS=()
  declare -a EC=() EP=()
  for i in 1 2 3; do EC[$i]=$(free_port); EP[$i]=$(free_port); cluster+="${cluster:+,}e$i=http://127.0.0.1:${EP[$i]}"; done
  for i in 1 2 3; do
    etcd --name "e$i" --data-dir "$WORK/etcd-$i" \
      --listen-client-urls "http://127.0.0.1:${EC[$i]}" --advertise-client-urls "http://127.0.0.1:${EC[$i]}" \
      --listen-peer-urls "http://127.0.0.1:${EP[$i]}" --initial-advertise-peer-urls "http://127.0.0.1:${EP[$i]}" \
      --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token "bench-$$" \
      --logger zap --log-level warn >"$WORK/etcd-$i.log" 2>&1 &
    EPIDS+=($!); PIDS+=($!)
    EPS+="${EPS:+,}127.0.0.1:${EC[$i]}"
  done
  for _ in $(seq 100); do
    ETCDCTL_API=3 timeout 5 etcdctl --endpoints "$EPS" endpoint health >/dev/null 2>&1 && break
    sleep 0.2
  done
  ETCDCTL_API=3 timeout 5 etcdctl --endpoints "$EPS" endpoint health >/dev/null 2>&1 ||
    { echo "etcd did not come up (see its logs)"; tail -5 "$WORK"/etcd-*.log; exit 1; }
  etcd_run() {  # op -> records
    local c0 c1 out
    c0=$(cpu_ticks "${EPIDS[@]}")
    out=$(timeout 120 $PY "$ROOT/bench/etcd-load.py" --endpoints "$EPS" "$1" --clients 50 --keys "$KEYS" \
            --value-size 32 --seconds "$SECS")
    c1=$(cpu_ticks "${EPIDS[@]}")
    $PY -c 'import json,sys; d=json.loads(sys.argv[1]); l=d["latency_ms"]
print(int(d["ops_per_sec"]), l["p50"], l["p99"], "etcd_cpu=%.2fs driver_cpu=%ss errors=%d" % (int(sys.argv[2]) / int(sys.argv[3]), d["driver_cpu_seconds"], d["errors"]))' \
      "$out" "$((c1 - c0))" "$HZ"
  }
  load_cairn "${LEAD[always]}"; load_cairn "${LEAD[never]}"
  $PY "$ROOT/bench/etcd-load.py" --endpoints "$EPS" preload --keys "$KEYS" --value-size 32 >/dev/null
  for ((r = 1; r <= ROUNDS; r++)); do
    read -r o a b < <(rb "${LEAD[always]}" set 1 "$N1"); record "$r" cluster cairn-always SET 1 "$o" "$a" "$b"
    read -r o a b < <(rb "${LEAD[never]}" set 1 "$N1");  record "$r" cluster cairn-never SET 1 "$o" "$a" "$b"
    read -r o a b n < <(etcd_run put);                   record "$r" cluster etcd put 1 "$o" "$a" "$b" "$n"
    read -r o a b < <(cb "${LEAD[always-native]}" 0);    record "$r" cluster cairn-always native-put 1 "$o" "$a" "$b"
    read -r o a b < <(rb "${LEAD[always]}" set 16 "$N16"); record "$r" cluster cairn-always SET 16 "$o" "$a" "$b"
    read -r o a b < <(rb "${LEAD[never]}" set 16 "$N16");  record "$r" cluster cairn-never SET 16 "$o" "$a" "$b"
    read -r o a b < <(rb "${LEAD[always]}" get 1 "$NGET"); record "$r" cluster cairn-always GET 1 "$o" "$a" "$b"
    read -r o a b n < <(etcd_run range);                 record "$r" cluster etcd range 1 "$o" "$a" "$b" "$n"
    read -r o a b < <(cb "${LEAD[always-native]}" 1);    record "$r" cluster cairn-always native-get 1 "$o" "$a" "$b"
  done
fi

# ---------------------------------------------------------------- ratios
echo
echo "ratios per round (median, range over $ROUNDS round(s)); p50 / p99 in ms are medians"
$PY - "$RESULTS" <<'EOF'
import sys, statistics as st
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
m = {}
for r, sec, tgt, wl, p, ops, p50, p99, *_ in rows:
    m.setdefault((sec, tgt, wl, p), {})[r] = (float(ops), float(p50), float(p99))
def show(name, a, b, need):
    A, B = m.get(a), m.get(b)
    if not A or not B:
        return
    rs = sorted(A[k][0] / B[k][0] for k in A if k in B)
    med = lambda d, i: st.median(v[i] for v in d.values())
    print(f"{name:44s} {st.median(rs):6.2f}x  ({rs[0]:.2f}-{rs[-1]:.2f})  need {need:>5s}   "
          f"A {med(A,0):8.0f}/s p50 {med(A,1):6.3f} p99 {med(A,2):7.3f}   "
          f"B {med(B,0):8.0f}/s p50 {med(B,1):6.3f} p99 {med(B,2):7.3f}")
show("1 node SET P1: cairn always / redis AOF always", ("single", "cairn-always", "SET", "1"), ("single", "redis-aof", "SET", "1"), "1.0x")
show("1 node SET P16: cairn always / redis AOF always", ("single", "cairn-always", "SET", "16"), ("single", "redis-aof", "SET", "16"), "1.0x")
show("3 nodes SET P1: cairn always / cairn never", ("cluster", "cairn-always", "SET", "1"), ("cluster", "cairn-never", "SET", "1"), "0.9x")
show("3 nodes SET P16: cairn always / cairn never", ("cluster", "cairn-always", "SET", "16"), ("cluster", "cairn-never", "SET", "16"), "0.9x")
show("3 nodes SET P1: cairn always / etcd put", ("cluster", "cairn-always", "SET", "1"), ("cluster", "etcd", "put", "1"), "5x")
show("3 nodes native put: cairn always / etcd put", ("cluster", "cairn-always", "native-put", "1"), ("cluster", "etcd", "put", "1"), "5x")
show("3 nodes GET P1: cairn / etcd range", ("cluster", "cairn-always", "GET", "1"), ("cluster", "etcd", "range", "1"), "5x")
show("3 nodes native get: cairn / etcd range", ("cluster", "cairn-always", "native-get", "1"), ("cluster", "etcd", "range", "1"), "5x")
EOF
echo "# done $(date -u +%FT%TZ); load average $(cut -d' ' -f1-3 /proc/loadavg)"
