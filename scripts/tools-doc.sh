#!/usr/bin/env bash
# docs/tools.md carries each tool's --help output verbatim, between marker lines:
#   <!-- help: cairn-cli set -->  ...  <!-- end help -->
# This script regenerates those blocks from a build's binaries (--write) or checks that they match
# (the default; exits 1 naming the tool whose help and page differ).
#
#   scripts/tools-doc.sh [--write] [BUILD_DIR]     (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
write=false
if [[ ${1:-} == --write ]]; then
  write=true
  shift
fi
build=${1:-build}
page=docs/tools.md
if [[ ! -x $build/tools/cairn-server/cairn-server ]]; then
  echo "tools-doc: $build has no built cairn-server" >&2
  exit 2
fi

python3 - "$build" "$page" "$write" <<'PY'
import re, subprocess, sys
build, page, write = sys.argv[1], sys.argv[2], sys.argv[3] == "true"
text = open(page).read()
block = re.compile(r"(<!-- help: ([^>]+?) -->\n)(.*?)(<!-- end help -->)", re.S)
stale = []

def render(m):
    words = m.group(2).split()
    tool = words[0]
    out = subprocess.run([f"{build}/tools/{tool}/{tool}", *words[1:], "--help"],
                         capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        sys.exit(f"tools-doc: {' '.join(words)} --help exited {out.returncode}: {out.stderr}")
    body = "```text\n" + out.stdout.rstrip() + "\n```\n"
    if body != m.group(3):
        stale.append(" ".join(words))
    return m.group(1) + body + m.group(4)

new = block.sub(render, text)
if not block.search(text):
    sys.exit(f"tools-doc: {page} has no help blocks")
if write:
    open(page, "w").write(new)
    print(f"tools-doc: {page} written" + (f" ({', '.join(stale)} changed)" if stale else ""))
elif stale:
    sys.exit(f"tools-doc: {page} differs from --help of: {', '.join(stale)}; "
             f"run scripts/tools-doc.sh --write {build}")
else:
    print(f"tools-doc: {page} matches every tool's --help")
PY
