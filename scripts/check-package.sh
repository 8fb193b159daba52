#!/usr/bin/env bash
# Builds cairn's Debian package (Release, with CPack), installs it on this machine, and checks it
# as an administrator would use it: the files and the cairn user are there, systemd accepts the
# unit, the packaged configuration lists every cairn-server option at its default, the installed
# server starts from that configuration as the cairn user and answers redis-cli (PING, SET, GET)
# and cairn-cli, stops gracefully on SIGTERM, and the package purges cleanly. Every step is
# bounded in time; the only process it stops is the server it started. Needs root (dpkg).
#
#   scripts/check-package.sh [BUILD_DIR]     (default: build-pkg, configured here)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-pkg}
jobs=${JOBS:-$(nproc)}
step() { echo "check-package: $*"; }
die() {
  echo "check-package: FAILED: $*" >&2
  exit 1
}

if [[ $(id -u) -ne 0 ]]; then die "needs root (dpkg -i, a system user)"; fi
if dpkg-query -W -f='${Status}' cairn 2>/dev/null | grep -q "install ok installed"; then
  die "a cairn package is already installed here; remove it first (dpkg --purge cairn)"
fi

# 1. The package.
step "building the package in $build"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
  -DCAIRN_BUILD_TESTS=OFF -DCAIRN_BUILD_BENCH=OFF >/dev/null
timeout 3600 ninja -C "$build" -j "$jobs"
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
rm -f "$build"/cairn_*.deb
(cd "$build" && timeout 600 cpack -G DEB >/dev/null)
deb=$build/cairn_${version}_amd64.deb
[[ -f $deb ]] || die "cpack made no $deb"
step "built $deb ($(du -h "$deb" | cut -f1))"

# 2. Install; from here on the package, and any server started, are undone on exit.
pid=""
cleanup() {
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  if dpkg-query -W -f='${Status}' cairn 2>/dev/null | grep -q "installed"; then
    timeout 120 dpkg --purge cairn >/dev/null || true
  fi
  rm -f "${log:-}"
}
trap cleanup EXIT
timeout 300 dpkg -i "$deb" >/dev/null || die "dpkg -i $deb"
for f in /usr/bin/cairn-server /usr/bin/cairn-cli /usr/bin/cairn-bench /usr/bin/cairn-data \
  /etc/cairn/cairn.toml /lib/systemd/system/cairn.service /usr/share/doc/cairn/tools.md; do
  [[ -e $f ]] || die "$f was not installed"
done
getent passwd cairn >/dev/null || die "postinst made no cairn user"
[[ $(stat -c %U:%G:%a /var/lib/cairn) == cairn:cairn:750 ]] ||
  die "/var/lib/cairn is $(stat -c %U:%G:%a /var/lib/cairn), not cairn:cairn:750"
dpkg-query -W -f='${Conffiles}' cairn | grep -q /etc/cairn/cairn.toml ||
  die "/etc/cairn/cairn.toml is not a conffile"
[[ $(/usr/bin/cairn-server --version) == "$version" ]] ||
  die "cairn-server --version says $(/usr/bin/cairn-server --version), the package $version"
step "installed: binaries, configuration, unit, user cairn, /var/lib/cairn"

# 3. The unit, as systemd reads it (systemd need not be running).
if command -v systemd-analyze >/dev/null; then
  out=$(timeout 60 systemd-analyze verify /lib/systemd/system/cairn.service 2>&1) ||
    die "systemd-analyze verify cairn.service: $out"
  [[ -z $out ]] || die "systemd-analyze verify cairn.service warns: $out"
  step "systemd-analyze verify cairn.service: ok"
else
  die "systemd-analyze not found (Debian package systemd)"
fi

# 4. The configuration names every option of --help, each at the default --help shows.
python3 - <<'PY' || die "/etc/cairn/cairn.toml and cairn-server --help disagree"
import re, subprocess, sys
help_text = subprocess.run(["/usr/bin/cairn-server", "--help"], capture_output=True, text=True,
                           check=True, timeout=30).stdout
conf = {}
for line in open("/etc/cairn/cairn.toml"):
    m = re.match(r'^([a-z-]+) = "?([^"]*)"?$', line.strip())
    if m:
        conf[m.group(1)] = m.group(2)
bad = []
# An option's line: "  --name TYPE[:CHECK]=DEFAULT  description"; the default follows the last
# "=" of the part before the description (a run of two spaces, or the end of the line).
for m in re.finditer(r"^\s+--([a-z-]+)(.*)$", help_text, re.M):
    name, head = m.group(1), re.split(r"\s{2,}", m.group(2).strip())[0]
    if name in ("help", "version", "config", "data-dir"):
        continue  # data-dir is /var/lib/cairn on purpose
    if name not in conf:
        bad.append(f"{name}: missing")
        continue
    expected = head.rsplit("=", 1)[1] if "=" in head else ""
    if name == "no-forward":
        expected = "false"
    if conf[name] != expected:
        bad.append(f"{name}: {conf[name]!r}, --help's default {expected!r}")
extra = set(conf) - set(re.findall(r"^\s+--([a-z-]+)", help_text, re.M))
bad += [f"{k}: not an option" for k in sorted(extra)]
for b in bad:
    print("  " + b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
step "/etc/cairn/cairn.toml: every option of cairn-server --help, at its default"

# 5. The installed server, from the packaged configuration, as the cairn user. The configured
#    ports are used when free; otherwise free ones are given on the command line (flags win).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port_free() { python3 -c "import socket,sys; s=socket.socket(); s.bind(('127.0.0.1', $1))" 2>/dev/null; }
resp_port=6380 native_port=9000 overrides=()
if ! port_free $resp_port || ! port_free $native_port; then
  resp_port=$(free_port) native_port=$(free_port)
  overrides=(--resp "127.0.0.1:$resp_port" --listen "127.0.0.1:$native_port")
fi
log=$(mktemp)
chmod 644 "$log"
(cd /var/lib/cairn && exec setpriv --reuid=cairn --regid=cairn --init-groups -- \
  /usr/bin/cairn-server --config /etc/cairn/cairn.toml "${overrides[@]}" >"$log" 2>&1) &
pid=$!
step "started /usr/bin/cairn-server --config /etc/cairn/cairn.toml${overrides[*]:+ ${overrides[*]}} (pid $pid)"
rcli() { timeout 10 redis-cli -h 127.0.0.1 -p "$resp_port" "$@"; }
for _ in $(seq 1 300); do
  [[ $(rcli PING 2>/dev/null) == PONG ]] && break
  kill -0 "$pid" 2>/dev/null || die "the server exited: $(cat "$log")"
  sleep 0.1
done
[[ $(rcli PING) == PONG ]] || die "no PONG within 30 s: $(cat "$log")"
[[ $(rcli SET packaged yes) == OK ]] || die "SET"
[[ $(rcli GET packaged) == yes ]] || die "GET"
[[ $(timeout 10 cairn-cli --addr "127.0.0.1:$native_port" get packaged) == yes ]] || die "cairn-cli get"
rcli INFO server | tr -d '\r' | grep -qx "cairn_version:$version" || die "INFO's cairn_version"
[[ -n $(find /var/lib/cairn -mindepth 1 -print -quit) ]] || die "nothing written in /var/lib/cairn"
[[ -z $(find /var/lib/cairn ! -user cairn -print -quit) ]] || die "files in /var/lib/cairn not cairn's"
step "redis-cli PING, SET, GET and cairn-cli get answered; INFO says cairn_version:$version"

# 6. SIGTERM to the server started above; it must exit 0 within the grace (10 s) and a margin.
kill -TERM "$pid"
for _ in $(seq 1 300); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then die "still running 30 s after SIGTERM"; fi
rc=0
wait "$pid" || rc=$?
pid=""
[[ $rc -eq 0 ]] || die "exit status $rc after SIGTERM: $(cat "$log")"
step "SIGTERM: a graceful shutdown, exit status 0"

# 7. Purge.
timeout 120 dpkg --purge cairn >/dev/null || die "dpkg --purge cairn"
for f in /usr/bin/cairn-server /etc/cairn /var/lib/cairn /lib/systemd/system/cairn.service; do
  [[ ! -e $f ]] || die "$f is left after dpkg --purge"
done
step "dpkg --purge: the binaries, configuration and data are gone"
step "ok"
