#!/usr/bin/env bash
# Network benchmarks, in one run on this machine:
#  1. codec throughput (Google Benchmark, net_codec_bench);
#  2. loopback Ping/Pong load against cairn-server, side by side with `redis-benchmark -t
#     ping_mbulk` against redis-server, with the same connections, pipelining and request count.
# Both servers run one I/O thread, as redis-server does. Prints a Markdown table.
#
#   bench/net/run.sh [requests-per-case]      (default 500000)
set -euo pipefail
cd "$(dirname "$0")/../.."
requests=${1:-500000}
scripts/install-deps.sh >/dev/null
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCAIRN_BUILD_BENCH=ON >/dev/null
ninja -C build cairn-server net_pingpong_load net_codec_bench >/dev/null

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }

cairn_port=$(free_port)
redis_port=$(free_port)
build/tools/cairn-server/cairn-server --listen 127.0.0.1:"$cairn_port" --resp 127.0.0.1:0 \
  --threads 1 --log-level warn &
cairn_pid=$!
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
  --logfile /dev/null &
redis_pid=$!
trap 'kill "$cairn_pid" "$redis_pid" 2>/dev/null; wait 2>/dev/null || true' EXIT
wait_port "$cairn_port"
wait_port "$redis_port"

echo "## Codec (net_codec_bench)"
build/bench/net/net_codec_bench --benchmark_min_time=0.2 2>/dev/null
echo
echo "## Ping/Pong, $requests requests per case, $(nproc) cores, $(date -u +%Y-%m-%d)"
echo
echo "| conns | pipeline | cairn msg/s | p50 ms | p99 ms | redis msg/s | p50 ms | p99 ms | cairn/redis |"
echo "|---|---|---|---|---|---|---|---|---|"
for c in 1 64; do
  for p in 1 16; do
    IFS=, read -r _ _ _ c_rps c_p50 c_p99 < <(build/bench/net/net_pingpong_load \
      --addr 127.0.0.1:"$cairn_port" -c "$c" -P "$p" -n "$requests" --csv)
    # redis-benchmark CSV: "test","rps","avg","min","p50","p95","p99","max"
    line=$(redis-benchmark -p "$redis_port" -t ping_mbulk -c "$c" -P "$p" -n "$requests" --csv | tail -1)
    IFS=, read -r _ r_rps _ _ r_p50 _ r_p99 _ <<<"${line//\"/}"
    ratio=$(awk -v a="$c_rps" -v b="$r_rps" 'BEGIN { printf "%.2f", a / b }')
    printf "| %s | %s | %.0f | %s | %s | %.0f | %s | %s | %s |\n" "$c" "$p" "$c_rps" "$c_p50" \
      "$c_p99" "$r_rps" "$r_p50" "$r_p99" "$ratio"
  done
done
