"""Runs a test's measurement in a fresh interpreter, for figures a process counts as a whole
(resident pages, SQLite's memory) that earlier tests in the same process would blur."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def in_fresh_interpreter(module: str, name: str, timeout: float = 120.0) -> Any:
    """Call ``module.name()`` in a new Python process and return what it returned (through
    JSON)."""
    code = f"import json; from {module} import {name}; print(json.dumps({name}()))"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
