#!/usr/bin/python3
"""mutate.py: the mutation harness (on demand, never in CI).

Reads tests/mutation/mutants.txt, copies the source tree (the files git
tracks plus the untracked ones it does not ignore) to a scratch directory,
builds it once (Release) and checks that every test the list names passes
there. Then, for each mutant: applies exactly one textual replacement to
one file, rebuilds, runs the ctest subset the mutant names, restores the
file, and records "killed" (a test failed or timed out) or "SURVIVED".
Prints the score and the survivors with the reason each one matters.

A mutant's file is its path; when that path does not exist (files move:
auth_service/refresh_store.c -> auth_service/store/sqlite_*.c, admin_* ->
tools/), the one source file holding the pattern is used instead. A
pattern found zero times or more than once in its file, or in no file or
several, is an error: every mutant is checked before anything is built,
and the run stops there.

usage: tests/mutation/mutate.py [--list FILE] [--only ID[,ID...]]
                                [--scratch DIR] [--keep] [--check]
  --check   only check the list (every pattern found exactly once)
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SOURCE_DIRS = ("common", "auth_service", "resource_service", "tools")
FIELDS = ("file", "find", "replace", "tests", "why", "equivalent")


class ListError(Exception):
    pass


def parse_list(path):
    """Blocks of `key = value` lines under an `[id]` line; # comments."""
    mutants, cur = [], None
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            m = re.fullmatch(r"\[([a-z0-9][a-z0-9_.-]*)\]", line.strip())
            if m:
                cur = {"id": m.group(1), "line": n}
                mutants.append(cur)
                continue
            m = re.fullmatch(r"(\w+) = (.*)", line)
            if cur is None or m is None or m.group(1) not in FIELDS:
                raise ListError(f"{path}:{n}: expected [id] or a field "
                                f"({', '.join(FIELDS)}) = value")
            if m.group(1) in cur:
                raise ListError(f"{path}:{n}: {m.group(1)} repeated")
            cur[m.group(1)] = m.group(2)
    ids = set()
    for mu in mutants:
        for key in ("file", "find", "replace", "tests", "why"):
            if key not in mu:
                raise ListError(f"{path}:{mu['line']}: [{mu['id']}] has no "
                                f"{key}")
        if mu["id"] in ids:
            raise ListError(f"{path}:{mu['line']}: id {mu['id']} repeated")
        if mu["find"] == mu["replace"]:
            raise ListError(f"{path}:{mu['line']}: find == replace")
        ids.add(mu["id"])
        mu["tests"] = mu["tests"].split()
    return mutants


def source_files(tree):
    for top in SOURCE_DIRS:
        for d, _, names in os.walk(os.path.join(tree, top)):
            for name in sorted(names):
                if name.endswith((".c", ".h")):
                    yield os.path.join(d, name)


def locate(tree, mu):
    """The file (relative to tree) where mu's pattern occurs exactly
    once; raises ListError otherwise."""
    path = os.path.join(tree, mu["file"])
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            count = f.read().count(mu["find"])
        if count != 1:
            raise ListError(f"[{mu['id']}] {mu['file']}: pattern found "
                            f"{count} times, want exactly 1: {mu['find']!r}")
        return mu["file"]
    holders = []
    for p in source_files(tree):
        with open(p, encoding="utf-8") as f:
            count = f.read().count(mu["find"])
        if count > 1:
            raise ListError(f"[{mu['id']}] {mu['file']} is gone and "
                            f"{os.path.relpath(p, tree)} holds the pattern "
                            f"{count} times: {mu['find']!r}")
        if count == 1:
            holders.append(os.path.relpath(p, tree))
    if len(holders) != 1:
        raise ListError(f"[{mu['id']}] {mu['file']} is gone and "
                        f"{len(holders)} files hold the pattern "
                        f"({', '.join(holders) or 'none'}): {mu['find']!r}")
    return holders[0]


def copy_tree(src, dst):
    """The files git tracks plus untracked ones it does not ignore (no
    build directories, no node_modules), or everything but build*/ when
    src is not a git checkout."""
    r = subprocess.run(["git", "-C", src, "ls-files", "-z", "-c", "-o",
                        "--exclude-standard"], capture_output=True)
    if r.returncode == 0:
        names = [n for n in r.stdout.decode().split("\0") if n]
    else:
        names = []
        for d, dirs, files in os.walk(src):
            dirs[:] = [x for x in dirs if not (d == src and (
                x.startswith("build") or x == ".git"))]
            names += [os.path.relpath(os.path.join(d, f), src)
                      for f in files]
    keep = set()
    for name in names:
        s = os.path.join(src, name)
        if not os.path.isfile(s):
            continue  # deleted in the work tree, still in the index
        d = os.path.join(dst, name)
        keep.add(os.path.normpath(d))
        os.makedirs(os.path.dirname(d), exist_ok=True)
        if os.path.isfile(d):
            with open(s, "rb") as a, open(d, "rb") as b:
                if a.read() == b.read():
                    continue  # unchanged: its objects stay valid
        # A fresh mtime: whatever a previous run built from this path
        # (perhaps a mutant of it) is older, so make rebuilds it.
        shutil.copyfile(s, d)
        shutil.copymode(s, d)
    # A scratch tree reused from an earlier run: files gone from the source.
    for d, dirs, files in os.walk(dst):
        if d == dst:
            dirs[:] = [x for x in dirs if x != "build"]
        for f in files:
            if os.path.normpath(os.path.join(d, f)) not in keep:
                os.remove(os.path.join(d, f))


def run(cmd, log, timeout=None, cwd=None):
    with open(log, "ab") as f:
        f.write(("\n$ " + " ".join(cmd) + "\n").encode())
        f.flush()
        try:
            return subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT,
                                  timeout=timeout, cwd=cwd).returncode
        except subprocess.TimeoutExpired:
            f.write(b"\n(timed out)\n")
            return -1


def build(tree, log):
    return run(["cmake", "--build", os.path.join(tree, "build"), "-j",
                str(os.cpu_count() or 2)], log, timeout=1800)


def ctest(tree, tests, log):
    """Non-zero when a test fails. The unit tests run first: most mutants
    fail one of them within a second, and then the slow integration tests
    (real daemons) are not run at all."""
    rc = 0
    for group in ([t for t in tests if t.startswith("unit_")],
                  [t for t in tests if not t.startswith("unit_")]):
        if not group:
            continue
        regex = "^(" + "|".join(re.escape(t) for t in group) + ")$"
        rc = run(["ctest", "--test-dir", os.path.join(tree, "build"), "-R",
                  regex, "-j", "2", "--timeout", "300",
                  "--output-on-failure"], log, timeout=1800)
        if rc != 0:
            return rc
    return rc


def known_tests(tree):
    r = subprocess.run(["ctest", "--test-dir", os.path.join(tree, "build"),
                        "-N"], capture_output=True, text=True)
    return set(re.findall(r"Test\s+#\d+: (\S+)", r.stdout))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--list", default=os.path.join(HERE, "mutants.txt"))
    ap.add_argument("--only", help="comma-separated mutant ids")
    ap.add_argument("--scratch", help="scratch directory (default: a new "
                    "one under $TMPDIR)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the scratch directory (a later run with "
                    "the same --scratch rebuilds only what changed)")
    ap.add_argument("--check", action="store_true",
                    help="only check that every pattern is found once")
    args = ap.parse_args()

    try:
        mutants = parse_list(args.list)
        if args.only:
            want = set(args.only.split(","))
            unknown = want - {m["id"] for m in mutants}
            if unknown:
                raise ListError(f"--only: no mutant {', '.join(unknown)}")
            mutants = [m for m in mutants if m["id"] in want]
        errors = []
        for mu in mutants:
            try:
                mu["path"] = locate(ROOT, mu)
            except ListError as e:
                errors.append(str(e))
        if errors:
            raise ListError("\nmutate: ".join(errors))
    except ListError as e:
        print(f"mutate: {e}", file=sys.stderr)
        return 2
    moved = [m for m in mutants if m["path"] != m["file"]]
    for mu in moved:
        print(f"note: [{mu['id']}] {mu['file']} is now {mu['path']}")
    if args.check:
        print(f"{len(mutants)} mutants, every pattern found exactly once")
        return 0

    scratch = args.scratch or tempfile.mkdtemp(prefix="jwt-mutation-")
    os.makedirs(scratch, exist_ok=True)
    tree = os.path.join(scratch, "src")
    log = os.path.join(scratch, "mutation.log")
    # An existing scratch tree (--scratch DIR --keep) is updated in
    # place, its build directory kept: only what changed is rebuilt.
    copy_tree(ROOT, tree)
    print(f"scratch tree {tree}, log {log}", flush=True)
    if run(["cmake", "-S", tree, "-B", os.path.join(tree, "build"),
            "-DCMAKE_BUILD_TYPE=Release"], log) != 0 or build(tree, log):
        print("mutate: the unmutated tree does not build; see the log",
              file=sys.stderr)
        return 2
    names = known_tests(tree)
    wanted = sorted({t for m in mutants for t in m["tests"]})
    missing = [t for t in wanted if t not in names]
    if missing:
        print(f"mutate: no such ctest: {', '.join(missing)}",
              file=sys.stderr)
        return 2
    t0 = time.monotonic()
    if ctest(tree, wanted, log) != 0:
        print("mutate: the tests fail on the unmutated tree; see the log",
              file=sys.stderr)
        return 2
    print(f"baseline: {len(wanted)} tests pass "
          f"({time.monotonic() - t0:.0f} s)", flush=True)

    results = []
    for i, mu in enumerate(mutants, 1):
        path = os.path.join(tree, mu["path"])
        with open(path, encoding="utf-8") as f:
            original = f.read()
        if original.count(mu["find"]) != 1:
            print(f"mutate: [{mu['id']}] pattern not found exactly once in "
                  f"the scratch copy", file=sys.stderr)
            return 2
        t0 = time.monotonic()
        with open(log, "a") as f:
            f.write(f"\n===== [{mu['id']}] {mu['path']}\n")
        try:
            with open(path, "w", encoding="utf-8") as f:
                f.write(original.replace(mu["find"], mu["replace"], 1))
            if build(tree, log) != 0:
                outcome = "BUILD-FAILED"
            elif ctest(tree, mu["tests"], log) != 0:
                outcome = "killed"
            else:
                outcome = "SURVIVED"
        finally:
            with open(path, "w", encoding="utf-8") as f:
                f.write(original)
            os.utime(path)  # newer than its object: rebuilt next time
        mu["outcome"] = outcome
        results.append(mu)
        print(f"[{i}/{len(mutants)}] {outcome:8} {mu['id']} "
              f"({time.monotonic() - t0:.0f} s)", flush=True)

    killed = sum(m["outcome"] == "killed" for m in results)
    broken = [m for m in results if m["outcome"] == "BUILD-FAILED"]
    survivors = [m for m in results if m["outcome"] == "SURVIVED"]
    explained = [m for m in survivors if "equivalent" in m]
    valid = len(results) - len(broken)
    # Equivalent mutants behave like the real code: no test can kill them,
    # so they leave the denominator (the usual mutation score).
    scored = valid - len(explained)
    print(f"\nscore: {killed}/{scored} killed "
          f"({100.0 * killed / max(scored, 1):.1f}%) of {valid} mutants, "
          f"{len(explained)} survivor(s) explained as equivalent "
          f"(raw {100.0 * killed / max(valid, 1):.1f}%), "
          f"{len(broken)} mutant(s) that do not build")
    for m in survivors:
        tag = "equivalent" if "equivalent" in m else "UNEXPLAINED"
        print(f"  survivor [{m['id']}] {m['path']} ({tag}): {m['why']}")
        if "equivalent" in m:
            print(f"    why equivalent: {m['equivalent']}")
    for m in broken:
        print(f"  does not build [{m['id']}]: fix the replacement")
    if not args.keep:
        shutil.rmtree(tree, ignore_errors=True)
    print(f"log: {log}")
    unexplained = [m for m in survivors if "equivalent" not in m]
    return 1 if unexplained or broken else 0


if __name__ == "__main__":
    sys.exit(main())
