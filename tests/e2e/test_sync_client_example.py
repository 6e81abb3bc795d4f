"""The documented httpx client (docs/examples/sync_client.py) works against a real server process."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_documented_sync_client_signs_in_pushes_and_pulls(live_server):
    result = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "examples" / "sync_client.py"), live_server, "lotse1", "demo"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "mutation 1: applied (version 1)" in result.stdout
    assert "the new note says: Notiz aus dem Skript" in result.stdout
