"""The engine's own tests reach every branch of sync/ (issue: 100 % branch coverage)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_engine_tests_cover_every_branch_of_sync():
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/sync/test_engine.py",
         "tests/sync/test_merge.py", "--cov=sync", "--cov-branch", "--cov-report=term-missing", "--cov-fail-under=100"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
