#!/usr/bin/python3
"""Mutation check for cairn's safety guards.

Each entry of tests/mutations/mutations.toml removes or inverts one guard. This script copies the
working tree to a scratch directory (build-mutants/ by default: tree/ holds the sources, build/ a
build directory kept between runs so rebuilds are incremental), configures it once, and for each
mutation: applies it, builds only the entry's targets, runs only the entry's tests, restores the
file and records whether the tests caught it ("killed") or not ("survived").

Before any mutation, the listed tests run against the unmutated tree: a test that already fails
would "catch" every mutation and prove nothing.

Exit status: 0 when every selected mutation was killed; 1 when any survived, could not be
applied (its original snippet is not found exactly once: the list is stale) or did not build;
2 on a usage or setup error.

    scripts/mutation-check.py                 every mutation
    scripts/mutation-check.py --subset ci     the fast fixed subset CI runs
    scripts/mutation-check.py --only ID[,ID]  just these
    scripts/mutation-check.py --list          print the list and exit

Standard library only (tomllib needs Python 3.11).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LIST = ROOT / "tests" / "mutations" / "mutations.toml"
DEFAULT_SCRATCH = ROOT / "build-mutants"
REQUIRED_KEYS = ("id", "file", "guard", "original", "replacement", "targets", "tests")


@dataclass
class Mutation:
    id: str
    file: str
    guard: str
    original: str
    replacement: str
    targets: list[str]
    tests: str  # a ctest -R regular expression (CMake syntax)
    subsets: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    mutation: Mutation
    status: str  # killed | survived | not-applied | build-failed
    detail: str = ""
    seconds: float = 0.0


def fail_setup(msg: str) -> None:
    print(f"mutation-check: {msg}", file=sys.stderr)
    sys.exit(2)


def load(path: Path) -> list[Mutation]:
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        fail_setup(f"cannot read {path}: {e}")
    out: list[Mutation] = []
    seen: set[str] = set()
    for i, m in enumerate(data.get("mutation", [])):
        missing = [k for k in REQUIRED_KEYS if k not in m]
        if missing:
            fail_setup(f"{path}: entry {i + 1} lacks {', '.join(missing)}")
        unknown = set(m) - set(REQUIRED_KEYS) - {"subsets"}
        if unknown:
            fail_setup(f"{path}: entry {m['id']} has unknown keys {sorted(unknown)}")
        if m["id"] in seen:
            fail_setup(f"{path}: duplicate id {m['id']}")
        if m["original"] == m["replacement"]:
            fail_setup(f"{path}: {m['id']} replaces its snippet with itself")
        if not m["targets"] or not m["tests"]:
            fail_setup(f"{path}: {m['id']} needs targets and tests")
        try:
            re.compile(m["tests"])
        except re.error as e:
            fail_setup(f"{path}: {m['id']}: bad tests regex: {e}")
        if "(?" in m["tests"] or "\\d" in m["tests"]:
            # ctest uses CMake's regular expressions: no (?:...), no \d and the like.
            fail_setup(f"{path}: {m['id']}: tests must be a CMake regex (no '(?', no '\\d')")
        seen.add(m["id"])
        out.append(Mutation(**m))
    if not out:
        fail_setup(f"{path} lists no mutations")
    return out


def run(cmd: list[str], cwd: Path, log: Path | None = None, timeout: float | None = None) -> int:
    """Runs cmd; its output goes to `log` (appended) or is discarded. Returns the exit status.

    Past `timeout` seconds the whole process group is killed (ctest's own --timeout yields to the
    TIMEOUT property every discovered test carries) and the result is a failure."""
    out = subprocess.DEVNULL
    f = None
    if log is not None:
        f = log.open("a")
        f.write(f"\n$ {' '.join(cmd)}\n")
        f.flush()
        out = f
    try:
        p = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                             start_new_session=True)
        try:
            return p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            if f is not None:
                f.write(f"\n(killed after {timeout:.0f} s)\n")
            return 124
        except BaseException:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            raise
    finally:
        if f is not None:
            f.close()


def source_files() -> list[str]:
    """The working tree's files: tracked and untracked, minus what .gitignore ignores (the build
    directories among them)."""
    out = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others",
                          "--exclude-standard"], capture_output=True)
    if out.returncode != 0:
        fail_setup("git ls-files failed: " + out.stderr.decode(errors="replace").strip())
    files = {f for f in out.stdout.decode().split("\0") if f}
    return sorted(f for f in files if os.path.lexists(ROOT / f))


def sync_tree(tree: Path) -> int:
    """Makes `tree` a copy of the working tree; returns how many files were (re)written.

    A file whose content is unchanged is left alone (its mtime too: no rebuild). A changed one is
    rewritten with a fresh mtime, so a file left mutated by an interrupted run is restored and
    rebuilt rather than trusted because of an older timestamp."""
    wanted = source_files()
    written = 0
    for rel in wanted:
        src, dst = ROOT / rel, tree / rel
        if src.is_symlink():
            target = os.readlink(src)
            if dst.is_symlink() and os.readlink(dst) == target:
                continue
            if dst.exists() or dst.is_symlink():
                dst.unlink()
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(target, dst)
            written += 1
            continue
        data = src.read_bytes()
        if dst.is_file() and not dst.is_symlink() and dst.read_bytes() == data:
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        if dst.is_symlink():
            dst.unlink()
        dst.write_bytes(data)
        shutil.copymode(src, dst)
        written += 1
    keep = set(wanted)
    for path in sorted(tree.rglob("*"), reverse=True):
        rel = path.relative_to(tree).as_posix()
        if path.is_dir() and not path.is_symlink():
            if not any(path.iterdir()):
                path.rmdir()
        elif rel not in keep:
            path.unlink()
            written += 1
    return written


def configure(tree: Path, build: Path, log: Path) -> None:
    if (build / "build.ninja").exists():
        return  # ninja re-runs cmake itself when a CMakeLists.txt changed
    cmd = ["cmake", "-S", str(tree), "-B", str(build), "-G", "Ninja",
           "-DCMAKE_BUILD_TYPE=RelWithDebInfo", "-DCAIRN_BUILD_BENCH=OFF"]
    if run(cmd, tree, log) != 0:
        fail_setup(f"cmake failed; see {log}")


def build(build_dir: Path, targets: list[str], jobs: int, lock: str | None, log: Path) -> bool:
    cmd = ["ninja", "-C", str(build_dir), "-j", str(jobs), *targets]
    if lock:
        cmd = ["flock", lock, *cmd]
    return run(cmd, build_dir, log) == 0


def run_tests(build_dir: Path, regex: str, jobs: int, timeout: int, log: Path,
              stop_on_failure: bool) -> bool:
    """True when every test matching `regex` passed (and at least one matched)."""
    cmd = ["ctest", "-R", regex, "--no-tests=error", "-j", str(jobs), "--output-on-failure"]
    if stop_on_failure:
        cmd.append("--stop-on-failure")
    return run(cmd, build_dir, log, timeout=timeout) == 0


def apply_mutation(tree: Path, m: Mutation) -> tuple[str | None, str]:
    """Returns (original file text, "") on success, or (None, reason)."""
    path = tree / m.file
    try:
        text = path.read_text()
    except OSError as e:
        return None, f"cannot read {m.file}: {e}"
    n = text.count(m.original)
    if n != 1:
        return None, f"original snippet found {n} times in {m.file} (must be exactly once)"
    path.write_text(text.replace(m.original, m.replacement, 1))
    return text, ""


def restore(tree: Path, m: Mutation, text: str) -> None:
    (tree / m.file).write_text(text)  # a fresh mtime: the next build recompiles it


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--list", action="store_true", help="print the mutations and exit")
    ap.add_argument("--only", help="comma-separated mutation ids")
    ap.add_argument("--subset", help="only the mutations tagged with this subset (e.g. ci)")
    ap.add_argument("--file", type=Path, default=DEFAULT_LIST, help="the mutation list")
    ap.add_argument("--scratch", type=Path, default=DEFAULT_SCRATCH,
                    help="scratch directory (default build-mutants/)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="ninja and ctest -j")
    ap.add_argument("--timeout", type=int, default=60,
                    help="seconds for one mutation's tests (a mutation that makes a test hang "
                         "counts as killed when it expires)")
    ap.add_argument("--build-lock", help="a file to flock around each build (a shared machine)")
    args = ap.parse_args()

    mutations = load(args.file)
    if args.only:
        wanted = [s for s in args.only.split(",") if s]
        known = {m.id for m in mutations}
        unknown = [w for w in wanted if w not in known]
        if unknown:
            fail_setup(f"unknown mutation id(s): {', '.join(unknown)}")
        mutations = [m for m in mutations if m.id in wanted]
    if args.subset:
        mutations = [m for m in mutations if args.subset in m.subsets]
        if not mutations:
            fail_setup(f"no mutation is in subset '{args.subset}'")

    if args.list:
        for m in mutations:
            tag = f" [{','.join(m.subsets)}]" if m.subsets else ""
            print(f"{m.id}{tag}\n    {m.file}: {m.guard}\n    tests: {m.tests}")
        return 0

    for tool in ("git", "cmake", "ninja", "ctest"):
        if shutil.which(tool) is None:
            fail_setup(f"{tool} is not installed")
    scratch = args.scratch.resolve()
    tree, build_dir = scratch / "tree", scratch / "build"
    scratch.mkdir(parents=True, exist_ok=True)
    log = scratch / "last-run.log"
    log.write_text("")
    started = time.monotonic()

    print(f"mutation-check: {len(mutations)} mutation(s); scratch {scratch}; log {log}")
    changed = sync_tree(tree)
    print(f"synced the working tree: {changed} file(s) written")
    configure(tree, build_dir, log)

    # Baseline: the unmutated tree builds and every listed test passes.
    targets = sorted({t for m in mutations for t in m.targets})
    if not build(build_dir, targets, args.jobs, args.build_lock, log):
        fail_setup(f"the unmutated tree does not build; see {log}")
    # One ctest run per distinct regex: CMake's regular expressions allow few groups, so they
    # cannot be joined into one.
    for regex in sorted({m.tests for m in mutations}):
        if not run_tests(build_dir, regex, args.jobs, args.timeout, log, stop_on_failure=False):
            fail_setup(f"tests '{regex}' fail (or match nothing) on the unmutated tree; see {log}")
    print(f"baseline: {len(targets)} target(s) built, listed tests pass "
          f"({time.monotonic() - started:.0f}s)")

    outcomes: list[Outcome] = []
    for m in mutations:
        t0 = time.monotonic()
        original_text, why = apply_mutation(tree, m)
        if original_text is None:
            outcomes.append(Outcome(m, "not-applied", why))
        else:
            try:
                with log.open("a") as f:
                    f.write(f"\n=== {m.id} ({m.file})\n")
                if not build(build_dir, m.targets, args.jobs, args.build_lock, log):
                    outcomes.append(Outcome(m, "build-failed", "the mutated tree does not build"))
                elif run_tests(build_dir, m.tests, args.jobs, args.timeout, log,
                               stop_on_failure=True):
                    outcomes.append(Outcome(m, "survived", f"tests '{m.tests}' all passed"))
                else:
                    outcomes.append(Outcome(m, "killed"))
            finally:
                restore(tree, m, original_text)
        outcomes[-1].seconds = time.monotonic() - t0
        o = outcomes[-1]
        print(f"  {o.status:<12} {m.id:<40} {o.seconds:5.0f}s  {o.detail}".rstrip(), flush=True)

    # Leave the scratch build matching the sources again (the restored files' objects).
    build(build_dir, targets, args.jobs, args.build_lock, log)

    counts = {s: sum(o.status == s for o in outcomes)
              for s in ("killed", "survived", "not-applied", "build-failed")}
    elapsed = time.monotonic() - started
    print(f"\n{len(outcomes)} mutation(s): " + ", ".join(f"{v} {k}" for k, v in counts.items())
          + f"; {elapsed:.0f}s")
    bad = [o for o in outcomes if o.status != "killed"]
    for o in bad:
        print(f"  {o.status.upper()}: {o.mutation.id} ({o.mutation.file}): {o.detail}")
    return 1 if bad else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("mutation-check: interrupted (the scratch tree is re-synced on the next run)",
              file=sys.stderr)
        sys.exit(130)
