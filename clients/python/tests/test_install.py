"""``pip install ./clients/python`` works offline in a fresh virtual environment: the in-tree build backend
needs nothing from a package index."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import subprocess
import sys
import tempfile
import unittest
import zipfile

PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Install(unittest.TestCase):
    def test_pip_installs_the_package_into_a_fresh_venv(self) -> None:
        import leasehold

        installed = os.path.dirname(os.path.abspath(leasehold.__file__))
        if not installed.startswith(PACKAGE_DIR + os.sep):
            # The runner installed it already (.ci/run: a fresh venv, `pip install ./clients/python`):
            # check that installation instead of making a second one.
            import importlib.metadata

            self.assertEqual("0.1.0", importlib.metadata.version("leasehold"))
            self.assertTrue(os.path.exists(os.path.join(installed, "py.typed")))
            files = [str(f) for f in importlib.metadata.files("leasehold") or []]
            self.assertIn("leasehold/aio.py", files)
            return
        with tempfile.TemporaryDirectory() as tmp:
            venv = os.path.join(tmp, "venv")
            subprocess.run([sys.executable, "-m", "venv", venv], check=True, timeout=120)
            python = os.path.join(venv, "bin", "python")
            env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
            env.pop("PYTHONPATH", None)
            done = subprocess.run(
                # --no-index: a package index that happens to be reachable cannot hide a build that needs one.
                [python, "-m", "pip", "install", "--no-index", PACKAGE_DIR], capture_output=True, text=True, timeout=300, env=env
            )
            self.assertEqual(0, done.returncode, done.stdout + done.stderr)
            # Imported from elsewhere, it is the installed copy, typed, with its asyncio variant.
            probe = (
                "import leasehold, leasehold.aio, os; "
                "d = os.path.dirname(leasehold.__file__); "
                "print(d); print(os.path.exists(os.path.join(d, 'py.typed'))); print(leasehold.__version__)"
            )
            out = subprocess.run([python, "-c", probe], capture_output=True, text=True, timeout=60, cwd=tmp, env=env)
            self.assertEqual(0, out.returncode, out.stderr)
            where, typed, version = out.stdout.split()
            self.assertTrue(where.startswith(venv), where)
            self.assertEqual(("True", "0.1.0"), (typed, version))

    def test_the_wheel_is_complete_and_its_record_true(self) -> None:
        sys.path.insert(0, os.path.join(PACKAGE_DIR, "_build"))
        try:
            import leasehold_build
        finally:
            sys.path.pop(0)
        with tempfile.TemporaryDirectory() as tmp:
            name = leasehold_build.build_wheel(tmp)
            self.assertEqual("leasehold-0.1.0-py3-none-any.whl", name)
            with zipfile.ZipFile(os.path.join(tmp, name)) as wheel:
                names = set(wheel.namelist())
                for needed in ("leasehold/__init__.py", "leasehold/aio.py", "leasehold/py.typed", "leasehold-0.1.0.dist-info/METADATA"):
                    self.assertIn(needed, names)
                self.assertFalse([n for n in names if "__pycache__" in n or n.startswith("tests/")])
                record = list(csv.reader(io.StringIO(wheel.read("leasehold-0.1.0.dist-info/RECORD").decode())))
                self.assertEqual(names, {row[0] for row in record})
                for path, digest, size in record:
                    if path.endswith("RECORD"):
                        continue
                    data = wheel.read(path)
                    expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
                    self.assertEqual(("sha256=" + expected, str(len(data))), (digest, size), path)
                self.assertIn("Requires-Python: >=3.9", wheel.read("leasehold-0.1.0.dist-info/METADATA").decode())
            sdist = leasehold_build.build_sdist(tmp)
            self.assertTrue(os.path.getsize(os.path.join(tmp, sdist)) > 0)


if __name__ == "__main__":
    unittest.main()
