#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each on a scratch copy of its seed corpus:
#   frame_message_fuzz  native protocol: framing and bincode (corpus/frame_message)
#   resp_parser_fuzz    Redis protocol: RESP request parser (corpus/resp_parser)
#
#   tests/fuzz/run.sh [SECONDS] [extra libFuzzer flags...]
#
# Each target runs for SECONDS, default 60 (-max_total_time), one after the other. The build goes
# to build-fuzz at the repository root unless BUILD_DIR says otherwise; JOBS (default 2) limits the
# build's parallelism. Both targets always run; the script exits non-zero if either finds a crash,
# leak or violated property. The offending input is then saved under $BUILD_DIR/fuzz-artifacts/
# and can be replayed with the target that found it, e.g.
#   $BUILD_DIR/tests/fuzz/resp_parser_fuzz $BUILD_DIR/fuzz-artifacts/crash-...
# The committed corpora are never modified; regenerate them with tests/fuzz/make_corpus.py and
# tests/fuzz/make_resp_corpus.py.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-60}
if [ $# -gt 0 ]; then shift; fi
build=${BUILD_DIR:-$root/build-fuzz}
jobs=${JOBS:-2}

if ! command -v clang++ >/dev/null; then
  echo "run.sh: clang++ not found (scripts/install-deps.sh installs clang and libclang-rt-14-dev)" >&2
  exit 2
fi

CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCAIRN_BUILD_FUZZ=ON \
  -DCAIRN_BUILD_TESTS=OFF -DCAIRN_BUILD_BENCH=OFF \
  -DCAIRN_SKIP_LAYERS="raft;storage;cache;node;server;client" >/dev/null
targets=(frame_message_fuzz:frame_message resp_parser_fuzz:resp_parser)
ninja -C "$build" -j "$jobs" "${targets[@]%%:*}"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
artifacts=$build/fuzz-artifacts
mkdir -p "$artifacts"

failed=()
for entry in "${targets[@]}"; do
  target=${entry%%:*}
  corpus=${entry#*:}
  cp -r "$root/tests/fuzz/corpus/$corpus" "$work/$corpus"
  echo "run.sh: fuzzing $target for ${seconds}s"
  if ! "$build/tests/fuzz/$target" -max_total_time="$seconds" -print_final_stats=1 \
      -artifact_prefix="$artifacts/" "$@" "$work/$corpus"; then
    failed+=("$target")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "run.sh: FAILED: ${failed[*]} (inputs under $artifacts/)" >&2
  exit 1
fi
echo "run.sh: ${#targets[@]} targets ran ${seconds}s each without a failure"
