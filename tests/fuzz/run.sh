#!/usr/bin/env bash
# Builds the libFuzzer target with clang and runs it on a scratch copy of the seed corpus.
#
#   tests/fuzz/run.sh [SECONDS] [extra libFuzzer flags...]
#
# SECONDS defaults to 60 (-max_total_time). The build goes to build-fuzz at the repository root
# unless BUILD_DIR says otherwise; JOBS (default 2) limits the build's parallelism. Exits non-zero
# if the fuzzer finds a crash, leak or violated property; the offending input is then saved under
# $BUILD_DIR/fuzz-artifacts/ and can be replayed with
#   $BUILD_DIR/tests/fuzz/frame_message_fuzz $BUILD_DIR/fuzz-artifacts/crash-...
# The committed corpus is never modified; regenerate it with tests/fuzz/make_corpus.py.
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
  -DCAIRN_SKIP_LAYERS="raft;cache;node;server;client" >/dev/null
ninja -C "$build" -j "$jobs" frame_message_fuzz

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$root/tests/fuzz/corpus/frame_message" "$work/corpus"
artifacts=$build/fuzz-artifacts
mkdir -p "$artifacts"

echo "run.sh: fuzzing frame_message_fuzz for ${seconds}s"
"$build/tests/fuzz/frame_message_fuzz" -max_total_time="$seconds" -print_final_stats=1 \
  -artifact_prefix="$artifacts/" "$@" "$work/corpus"
