"""The package as an agency installs it: `pip install` from the build tree (offline, with
Debian's setuptools), then imported from where pip put it."""

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

import cir_registry

# The package tree the build wrote (build/python), found from the package on the test's path.
BUILD_TREE = os.path.dirname(os.path.dirname(cir_registry.__file__))


class PackageTest(unittest.TestCase):
    def test_pip_installs_it_from_the_build_tree_with_its_types_and_no_top_level_cir(self) -> None:
        with tempfile.TemporaryDirectory(prefix="cir-python-package-") as temp:
            source = os.path.join(temp, "source")  # pip builds in place: not in the build tree
            shutil.copytree(BUILD_TREE, source, ignore=shutil.ignore_patterns("__pycache__"))
            target = os.path.join(temp, "installed")
            subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-index",
                            "--no-deps", "--no-build-isolation", "--target", target, source],
                           check=True, capture_output=True)
            check = textwrap.dedent("""\
                import importlib.util, os, cir_registry
                from cir_registry import v1
                assert v1.ResolveRequest(identifier="x").identifier == "x"
                print(os.path.dirname(cir_registry.__file__))
                print(importlib.util.find_spec("cir") is None)
            """)
            environment = dict(os.environ, PYTHONPATH=target)
            ran = subprocess.run([sys.executable, "-c", check], cwd=temp, env=environment,
                                 check=True, capture_output=True, text=True)
            package_dir, no_cir = ran.stdout.split()
            self.assertEqual(package_dir, os.path.join(target, "cir_registry"))
            self.assertEqual(no_cir, "True")
            self.assertFalse(os.path.exists(os.path.join(target, "cir")))
            self.assertTrue(os.path.exists(os.path.join(package_dir, "py.typed")))
            self.assertTrue(
                os.path.exists(os.path.join(package_dir, "_generated", "registry_pb2.pyi")))


if __name__ == "__main__":
    unittest.main()
