#!/usr/bin/env bash
# Installs dependencies, builds cairn and starts one cairn-server (a single node on loopback by
# default). Arguments are passed to cairn-server, e.g. scripts/run-server.sh --listen 127.0.0.1:9100
set -euo pipefail
cd "$(dirname "$0")/.."
"$(dirname "$0")/install-deps.sh"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build cairn-server cairn-cli
exec build/tools/cairn-server/cairn-server "$@"
