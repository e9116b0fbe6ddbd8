#!/usr/bin/env python3
"""The guide runner's own test: small guides it must pass, and each way it must fail."""
import os
import subprocess
import sys
import tempfile

RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "run_guide.py")
FENCE = "```"


def run_guide(text, fixtures=True):
    with tempfile.TemporaryDirectory() as d:
        guide = os.path.join(d, "guide.md")
        with open(guide, "w") as f:
            f.write(text)
        env = dict(os.environ)
        env.pop("OUTPOST_FIXTURES", None)
        if fixtures:
            env["OUTPOST_FIXTURES"] = d
        r = subprocess.run([sys.executable, RUNNER, "--outpost", "/bin/true", "--guide", guide], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        return r.returncode, r.stdout


def session(*lines):
    return f"{FENCE}console\n" + "\n".join(lines) + f"\n{FENCE}\n"


GOOD = (
    "Text that does not run.\n\n"
    f"{FENCE}sh\nfalse\n{FENCE}\n\n"
    f"{FENCE}yaml file=conf/a.yaml\nkey: value\nlist:\n  - name: x\n{FENCE}\n\n"
    + session("$ grep -c '^  - name: x$' conf/a.yaml", "1", "$ echo one   two \\", "    three", "one two three",
              "$ ! sh -c 'echo refused; exit 4'", "refused", "[exit 4]", "$ echo signed by ed25519:0123, not by x",
              "signed by ed25519:..., not by x")
    + "\n1. In a list:\n\n   " + session("$ echo indented", "indented").replace("\n", "\n   ")
)


def main():
    failures = []

    def expect(name, text, code, said=None, fixtures=True):
        got, out = run_guide(text, fixtures)
        if got != code or (said and said not in out):
            failures.append(f"{name}: exit {got} (want {code}), output:\n{out}")

    expect("a guide whose commands all do what it says passes", GOOD, 0, "guide: ok (5 commands)")
    expect("missing output fails naming its line", session("$ echo one", "two"), 1,
           "guide.md:2: FAILED: missing from the output: two")
    expect("a command that fails unexpectedly fails the run", session("$ false"), 1, "FAILED: exited 1")
    expect("a command marked to fail that succeeds fails the run", session("$ ! true"), 1,
           "the guide says this command fails, but it exited 0")
    expect("a wrong exit code fails the run", session("$ ! sh -c 'exit 3'", "[exit 4]"), 1,
           "exited 3, the guide says 4")
    expect("commands after a failure do not run", session("$ false", "$ echo after", "never"), 1)
    expect("a guide with nothing to run fails", "no blocks\n", 1, "no ```console block to run")
    expect("without fixtures the run is skipped", GOOD, 77, "guide not run", fixtures=False)
    for f in failures:
        print("FAILED:", f)
    print(f"run_guide_test: {'ok' if not failures else 'FAILED'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
