from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_engine_and_ledger_import_without_django():
    code = "import sys, dispatch.engine, capacity.ledger; print('django' in sys.modules)"

    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()

    assert out == "False"
