#!/usr/bin/env python3
"""check_layering.py fails on a violation planted in a temporary copy of the source tree, naming
the file, the line and the rule; and passes on the copy as it is."""
import pathlib
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SCRIPT = HERE / "check_layering.py"


def copy_sources(dest):
    """Copies the folders check_layering.py reads (sources only) into `dest`."""
    for folder in ROOT.iterdir():
        if not folder.is_dir() or folder.name.startswith(("build", ".")):
            continue
        for path in folder.rglob("*"):
            if path.suffix in (".h", ".cc") and path.is_file():
                target = dest / path.relative_to(ROOT)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)


def run(root):
    return subprocess.run([sys.executable, str(SCRIPT), "--root", str(root)], capture_output=True, text=True)


class CheckLayeringTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = pathlib.Path(self.tmp.name)
        copy_sources(self.root)

    def tearDown(self):
        self.tmp.cleanup()

    def plant(self, relative, lines):
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n")

    def test_the_tree_as_it_is_passes(self):
        result = run(self.root)
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_storage_including_codec_fails_naming_file_line_and_rule(self):
        path = self.root / "storage" / "reference.cc"
        lines = path.read_text().splitlines()
        lines.insert(2, '#include "codec/recipe.h"')
        path.write_text("\n".join(lines) + "\n")
        result = run(self.root)
        self.assertEqual(result.returncode, 1)
        self.assertIn('storage/reference.cc:3: storage/ may not include codec/ (#include "codec/recipe.h"); '
                      "storage/ may use: common, compress, image, tar", result.stderr)

    def test_agent_including_hub_fails(self):
        self.plant("agent/agent.cc", ['#include "agent/agent.h"', "", '#include "hub/queue.h"'])
        result = run(self.root)
        self.assertEqual(result.returncode, 1)
        self.assertIn("agent/agent.cc:3: agent/ may not include hub/", result.stderr)

    def test_a_folder_missing_from_the_table_fails(self):
        self.plant("newthing/a.cc", ['#include "common/io.h"'])
        result = run(self.root)
        self.assertEqual(result.returncode, 1)
        self.assertIn("folder 'newthing' is not in the layering table", result.stderr)

    def test_only_test_files_may_include_tests_support(self):
        self.plant("delta/helper.cc", ['#include "tests/support/matchers.h"'])
        self.plant("delta/helper_test.cc", ['#include "tests/support/matchers.h"'])
        result = run(self.root)
        self.assertIn("delta/helper.cc:1: delta/ may not include tests/", result.stderr)
        self.assertNotIn("helper_test.cc", result.stderr)


if __name__ == "__main__":
    unittest.main()
