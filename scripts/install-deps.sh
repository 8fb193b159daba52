#!/usr/bin/env bash
# Installs every Debian 12 package that building, testing and benchmarking cairn needs.
# Idempotent and non-interactive; run as root or with sudo available.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build g++ clang libclang-rt-14-dev clang-format pkg-config
  # libraries
  libasio-dev libprotobuf-dev protobuf-compiler libspdlog-dev libfmt-dev libcli11-dev
  libtomlplusplus-dev liblz4-dev libxxhash-dev libhiredis-dev libjemalloc-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev redis-server redis-tools python3-redis procps
  # the Debian package: cpack's dependency scan (dpkg-shlibdeps, file), systemd-analyze for the
  # unit, adduser for its maintainer scripts
  dpkg-dev file systemd adduser
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
