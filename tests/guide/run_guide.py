#!/usr/bin/env python3
"""Runs the user guide (docs/guide.md) as a test, so its commands cannot go stale.

What runs, in the order the guide gives it, in one scratch directory with the built `outpost`
first on PATH:

- a fenced block opened with ```yaml file=NAME (or any language, `file=NAME`) is written to
  NAME in the scratch directory: the configs the guide shows are the configs it runs with;
- a fenced block opened with ```console is a session: a line starting with `$ ` is a command
  (a trailing backslash continues it on the next line); `$ ! CMD` is a command that must fail
  (exit non-zero); every other non-empty line is a fragment that must appear in what the
  command before it printed (stdout and stderr together; runs of blanks count as one). Inside
  a fragment `...` stands for any text (a key fingerprint, a size); a line of only `...` is
  skipped. A line `[exit N]` says the command exits with exactly N.

Other blocks (```sh, ```yaml without file=) are illustrations and do not run. Each command runs
under `bash -o pipefail -c` (so `|`, `&&` and `$VAR` work); nothing carries over between commands
but files. OUTPOST_FIXTURES must name the real-image fixtures (/work/shared/fixtures); without
it the run is skipped (exit 77), as the other fixture tests are.

usage: run_guide.py --outpost BUILD/cli/outpost [--guide docs/guide.md] [--keep] [--show]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

SKIP = 77
FENCE = re.compile(r"^```(\S*)(.*)$")
FILE_ATTR = re.compile(r"\bfile=(\S+)")
EXIT_LINE = re.compile(r"^\[exit (\d+)\]$")


class Step:
    """One thing the guide asks for: a file to write or a command with its expectations."""

    def __init__(self, line, kind, text, must_fail=False, name=None):
        self.line, self.kind, self.text, self.must_fail, self.name = line, kind, text, must_fail, name
        self.fragments = []
        self.exit_code = None  # the exact exit code a `[exit N]` line asks for


def parse(text):
    """The guide's steps in order; raises ValueError on a malformed block."""
    steps, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        m = FENCE.match(lines[i].lstrip())
        if not m or not m.group(1):
            i += 1
            continue
        # A block inside a list item is indented; its lines lose that indent.
        indent = len(lines[i]) - len(lines[i].lstrip())
        lang, attrs, start = m.group(1), m.group(2), i + 1
        body = []
        i += 1
        while i < len(lines) and not lines[i].lstrip().startswith("```"):
            line = lines[i]
            body.append(line[indent:] if line[:indent].strip() == "" else line.lstrip())
            i += 1
        if i == len(lines):
            raise ValueError(f"line {start}: block never closed")
        i += 1
        f = FILE_ATTR.search(attrs)
        if f:
            steps.append(Step(start, "file", "\n".join(body) + "\n", name=f.group(1)))
        elif lang == "console":
            steps.extend(parse_session(body, start + 1))
    return steps


def parse_session(body, first_line):
    steps, j = [], 0
    while j < len(body):
        line, number = body[j], first_line + j
        j += 1
        if line.startswith("$ "):
            cmd = line[2:]
            while cmd.endswith("\\") and j < len(body):
                cmd += "\n" + body[j]
                j += 1
            must_fail = cmd.startswith("! ")
            steps.append(Step(number, "command", cmd[2:] if must_fail else cmd, must_fail))
        elif line.strip() and line.strip() != "...":
            if not steps:
                raise ValueError(f"line {number}: expected output before any command")
            code = EXIT_LINE.match(line.strip())
            if code:
                steps[-1].exit_code = int(code.group(1))
            else:
                steps[-1].fragments.append(line.strip())
    return steps


def matches(fragment, flat_output):
    """Whether `fragment` occurs in the output; `...` inside it stands for any text."""
    pieces = [re.escape(" ".join(p.split())) for p in fragment.split("...")]
    return re.search(".*?".join(pieces), flat_output) is not None


def run(steps, work, env, guide, show=False):
    for step in steps:
        if step.kind == "file":
            path = os.path.join(work, step.name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(step.text)
            print(f"{guide}:{step.line}: wrote {step.name}")
            continue
        started = time.monotonic()
        r = subprocess.run(["bash", "-o", "pipefail", "-c", step.text], cwd=work, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
        out = r.stdout.decode(errors="replace")
        took = time.monotonic() - started
        problems = []
        if step.must_fail and r.returncode == 0:
            problems.append("the guide says this command fails, but it exited 0")
        if not step.must_fail and r.returncode != 0:
            problems.append(f"exited {r.returncode}")
        if step.exit_code is not None and r.returncode != step.exit_code:
            problems.append(f"exited {r.returncode}, the guide says {step.exit_code}")
        # The output is compared with runs of blanks made one, as a terminal reader sees it.
        flat = " ".join(out.split())
        for fragment in step.fragments:
            if not matches(fragment, flat):
                problems.append(f"missing from the output: {fragment}")
        print(f"{guide}:{step.line}: {'!' if step.must_fail else '$'} {step.text}  ({took:.1f} s, exit {r.returncode})")
        if (problems or show) and out:
            print(out, end="" if out.endswith("\n") else "\n")
        for p in problems:
            print(f"{guide}:{step.line}: FAILED: {p}")
        if problems:
            return False
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--outpost", required=True, help="the built outpost binary")
    ap.add_argument("--guide", default=os.path.join(os.path.dirname(__file__), "..", "..", "docs", "guide.md"))
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory (its path is printed)")
    ap.add_argument("--show", action="store_true", help="print every command's output (for writing the guide)")
    a = ap.parse_args()
    fixtures = os.environ.get("OUTPOST_FIXTURES", "")
    if not fixtures or not os.path.isdir(fixtures):
        print("OUTPOST_FIXTURES is not set to the fixtures folder: guide not run")
        return SKIP
    with open(a.guide) as f:
        steps = parse(f.read())
    if not any(s.kind == "command" for s in steps):
        print(f"{a.guide}: no ```console block to run")
        return 1
    work = tempfile.mkdtemp(prefix="outpost-guide-")
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(os.path.abspath(a.outpost)) + os.pathsep + env.get("PATH", "")
    env["OUTPOST_FIXTURES"] = os.path.abspath(fixtures)
    env["HOME"] = work  # the diff cache (~/.cache/outpost) and anything else stays in the scratch
    try:
        ok = run(steps, work, env, a.guide, a.show)
    finally:
        if a.keep:
            print(f"scratch kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"guide: {'ok' if ok else 'FAILED'} ({sum(s.kind == 'command' for s in steps)} commands)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
