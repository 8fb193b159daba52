#!/usr/bin/env bash
# Installs cairn from a build directory into a temporary prefix and builds examples/client
# against it with find_package(cairn), as another project would. Needs no running server.
#
#   scripts/check-install.sh [BUILD_DIR]     (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
if [[ ! -f $build/CMakeCache.txt ]]; then
  echo "check-install: $build is not a configured build directory" >&2
  exit 2
fi
if grep -qE '^CAIRN_SKIP_LAYERS:[A-Z]+=.*client' "$build/CMakeCache.txt"; then
  echo "check-install: $build leaves out the client layer; nothing to check"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
for f in lib/libcairn-client.a include/cairn/client/client.h lib/cmake/cairn/cairnConfig.cmake \
  lib/cmake/cairn/cairnConfigVersion.cmake lib/cmake/cairn/cairnTargets.cmake; do
  if [[ ! -f $tmp/prefix/$f ]]; then
    echo "check-install: $f was not installed" >&2
    exit 1
  fi
done
# The installed headers must not need Asio or protobuf.
if grep -rlE '#include <(asio|google/protobuf)' "$tmp/prefix/include/cairn"; then
  echo "check-install: an installed header includes Asio or protobuf" >&2
  exit 1
fi
cmake -S examples/client -B "$tmp/example" -G Ninja -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/example" >/dev/null
# Without a server the example must fail cleanly, naming the address, not crash.
if out=$("$tmp/example/cairn-example" --addr 127.0.0.1:1 2>&1); then
  echo "check-install: the example succeeded with no server at 127.0.0.1:1" >&2
  exit 1
fi
if [[ $out != *"127.0.0.1:1"* ]]; then
  echo "check-install: unexpected output from the example: $out" >&2
  exit 1
fi
echo "check-install: installed and built examples/client against $build's install: ok"
