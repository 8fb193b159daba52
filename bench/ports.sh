# Helpers for the benchmark scripts that start servers on 127.0.0.1 (sourced, not run).

# Exits with a message if any of COUNT ports from FIRST already has a listener.
require_free_ports() {  # FIRST COUNT
  local p
  for ((p = $1; p < $1 + $2; p++)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "port $p is in use" >&2
      exit 1
    fi
  done
}

# Waits up to 20 s for a PING answered on PORT (a Redis-protocol server); exits if none comes.
wait_for_ping() {  # PORT
  local _
  for _ in $(seq 200); do
    redis-cli -p "$1" ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "nothing answers PING on port $1" >&2
  exit 1
}

# Loads KEYS keys (key:0 ...) of 1 KiB incompressible values into the Redis-protocol server on
# PORT through redis-cli --pipe; prints redis-cli's summary line.
load_random_values() {  # PORT KEYS
  /usr/bin/python3 - "$2" <<'PY' | redis-cli -p "$1" --pipe | tail -1
import os, sys
n = int(sys.argv[1])
out = sys.stdout.buffer
for i in range(n):
    k = b"key:%d" % i
    out.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1024\r\n%s\r\n" % (len(k), k, os.urandom(1024)))
PY
}
