#!/usr/bin/env bash
# Installs dependencies, builds and runs cairn's test suite.
#
#   scripts/test.sh            release-like build (build/), every test through ctest
#   scripts/test.sh asan       the same under AddressSanitizer + UBSan (build-asan/)
#   scripts/test.sh tsan       the tests of threaded code under ThreadSanitizer (build-tsan/)
#   scripts/test.sh mutants    the CI subset of the mutation check (build-mutants/, docs/testing.md)
#   scripts/test.sh fuzz [S]   builds the libFuzzer targets with clang and fuzzes S seconds each
#   scripts/test.sh package    Release build with GCC, the Debian package, installed and run
#                              (build-pkg/, scripts/check-package.sh)
#   scripts/test.sh clang      Release build of the libraries and tools with clang (build-clang/)
#   scripts/test.sh all        all of the above, in that order (what CI runs)
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-default}
jobs=$(nproc)

"$(dirname "$0")/install-deps.sh"

configure_and_test() {  # dir, extra cmake args...
  local dir=$1
  shift
  cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
  ninja -C "$dir" -j "$jobs"
  (cd "$dir" && ctest --output-on-failure --timeout 600 -j "$jobs" ${CTEST_ARGS:-})
}

# Client install check: installs cairn into a temporary prefix and builds examples/client
# against it with find_package(cairn).
check_install() { scripts/check-install.sh build; }

# docs/tools.md carries each tool's --help; it must match the binaries.
run_default() {
  configure_and_test build -DCMAKE_BUILD_TYPE=RelWithDebInfo
  check_install
  scripts/tools-doc.sh build
}

# The sanitizer builds keep line tables only (-g1): all their reports need is file:line, and full
# debug information makes each compile about a third slower.
run_asan() {
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1
  configure_and_test build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 \
    -DCAIRN_SANITIZE=address,undefined -DCAIRN_BUILD_BENCH=OFF
}

run_tsan() {
  # Single-threaded code (tests labelled "nothreads", and the Raft simulator runs) gains nothing
  # under TSan; it runs in the other passes.
  export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
  # TSan cannot map its shadow memory under the kernel's default high ASLR entropy on some
  # machines; run without address randomisation there.
  local wrap=()
  if command -v setarch >/dev/null; then wrap=(setarch "$(uname -m)" -R); fi
  cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" -DCAIRN_SANITIZE=thread \
    -DCAIRN_BUILD_BENCH=OFF >/dev/null
  ninja -C build-tsan -j "$jobs"
  (cd build-tsan && "${wrap[@]}" ctest --output-on-failure --timeout 600 -j "$jobs" -LE nothreads -E '^raft_sim_')
}

# A few safety guards broken one at a time in a scratch copy; the tests must catch each
# (docs/testing.md). About 2 minutes on 2 cores from a fresh clone, seconds once built.
run_mutants() { /usr/bin/python3 scripts/mutation-check.py --subset ci --jobs "$jobs"; }

run_fuzz() { tests/fuzz/run.sh "${1:-60}"; }

# The package check builds its own Release tree (GCC, no tests: the server, the tools and the
# client library at -O3), makes the .deb, installs it, runs the server from /etc/cairn/cairn.toml
# and purges it.
run_package() { JOBS=$jobs scripts/check-package.sh build-pkg; }

# The second compiler: clang builds what is installed, in Release, with our warnings as errors.
# Compile only: the tests run in the GCC builds.
run_clang() {
  cmake -S . -B build-clang -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++ \
    -DCAIRN_BUILD_TESTS=OFF -DCAIRN_BUILD_BENCH=OFF >/dev/null
  ninja -C build-clang -j "$jobs"
}

case "$mode" in
  default) run_default ;;
  asan) run_asan ;;
  tsan) run_tsan ;;
  mutants) run_mutants ;;
  fuzz) run_fuzz "${2:-60}" ;;
  package) run_package ;;
  clang) run_clang ;;
  all) run_default; run_asan; run_tsan; run_mutants; run_fuzz "${2:-60}"; run_package; run_clang ;;
  *) echo "usage: $0 [default|asan|tsan|mutants|fuzz [seconds]|package|clang|all]" >&2; exit 2 ;;
esac
