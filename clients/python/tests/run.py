"""Runs the Python client's tests and ends with one line for CI: ``python tests: N passed, N failed``.

    python clients/python/tests/run.py [-v]

``leasehold`` is imported as installed (``pip install ./clients/python``); the server comes from
``$LEASEHOLD_SERVER_DLL`` or the repository's build (see server.py)."""

from __future__ import annotations

import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def main() -> int:
    import leasehold

    print("leasehold %s from %s" % (leasehold.__version__, os.path.dirname(leasehold.__file__)), flush=True)
    started = time.monotonic()
    suite = unittest.defaultTestLoader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    verbosity = 2 if "-v" in sys.argv[1:] else 1
    result = unittest.TextTestRunner(verbosity=verbosity, stream=sys.stdout).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    passed = result.testsRun - failed - len(result.skipped)
    print("python tests: %d passed, %d failed (%d skipped) in %.1f s" % (passed, failed, len(result.skipped), time.monotonic() - started))
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
