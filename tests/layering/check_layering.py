#!/usr/bin/env python3
"""Checks outpost's layering: a folder's sources include headers only from the folders it may use.

Usage: check_layering.py [--root DIR]

Reads every .h/.cc under the repository's top-level folders, takes each quoted include of the
form "folder/file.h", and fails (exit 1) listing file:line and the broken rule for each include
of a folder the table below does not allow. A top-level folder with sources that the table does
not name fails too: a new folder states what it may use here and in docs/architecture.md.
Files whose name contains "test", and the test-only fuzz/ and bench/ folders, may also include
the test helpers in tests/support/ (matchers, builders), tests/link/ (daemon processes) and
tests/registry/ (real docker-registry instances).
"""
import argparse
import pathlib
import re
import sys

# What each folder may use besides itself, lowest first (docs/architecture.md explains each).
LIBRARIES = ["common", "compress", "tar", "image", "storage", "registry", "deflate", "codec",
             "delta", "protocol", "link", "sync"]
ALLOWED = {
    "common": set(),
    "compress": {"common"},
    "tar": {"common"},
    "image": {"common", "compress"},
    "storage": {"common", "compress", "tar", "image"},
    "registry": {"common", "compress", "tar", "image", "storage"},
    "deflate": {"common", "tar"},  # tar only for an oracle test's inputs
    "codec": {"common", "compress", "tar", "image", "deflate"},
    "delta": {"common", "compress", "tar", "deflate"},
    "protocol": {"common", "compress"},
    "link": {"common"},
    "sync": {"common", "compress", "tar", "image", "storage", "deflate", "codec", "delta", "protocol"},
    # The daemons: everything below them, never each other.
    "hub": set(LIBRARIES),
    "agent": set(LIBRARIES),
    # Programs and test suites: everything.
    "cli": set(LIBRARIES) | {"hub", "agent"},
    "bench": set(LIBRARIES),
    "fuzz": set(LIBRARIES),
    "tests": set(LIBRARIES) | {"hub", "agent", "cli"},
}
# Folders that hold no C++ of outpost's own.
IGNORED = {"build", "docs", "packaging", "cmake", ".ci", ".git"}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([A-Za-z0-9_.-]+)/')


def violations(root):
    """Yields (path, line number, message) for every include that breaks the table."""
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        name = folder.name
        if name in IGNORED or name.startswith("build") or name.startswith("."):
            continue
        sources = sorted(p for p in folder.rglob("*") if p.suffix in (".h", ".cc") and p.is_file())
        if not sources:
            continue
        if name not in ALLOWED:
            yield (folder.relative_to(root), 0,
                   f"folder '{name}' is not in the layering table: add what it may use to "
                   f"tests/layering/check_layering.py and docs/architecture.md")
            continue
        allowed = ALLOWED[name] | {name}
        for path in sources:
            is_test = "test" in path.name or name in ("fuzz", "bench")
            for number, text in enumerate(path.read_text(errors="replace").splitlines(), 1):
                m = INCLUDE.match(text)
                if not m:
                    continue
                used = m.group(1)
                if used in allowed:
                    continue
                if used == "tests" and is_test and re.search(r'"tests/(support|link|registry)/', text):
                    continue
                may = ", ".join(sorted(ALLOWED[name])) or "nothing"
                yield (path.relative_to(root), number,
                       f"{name}/ may not include {used}/ ({text.strip()}); {name}/ may use: {may}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=pathlib.Path(__file__).resolve().parents[2], type=pathlib.Path)
    args = parser.parse_args()
    found = list(violations(args.root.resolve()))
    for path, line, message in found:
        print(f"{path}:{line}: {message}", file=sys.stderr)
    if found:
        print(f"layering: {len(found)} violation(s)", file=sys.stderr)
        return 1
    print("layering: every include follows the table")
    return 0


if __name__ == "__main__":
    sys.exit(main())
