"""Tests of what making an HTTP check prepares."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_making_a_check_loads_what_its_first_request_would() -> None:
    """httpx loads its transport and anyio's asyncio backend at a client's first request;
    fifty checks starting at once from their own threads raced on those imports for seconds
    of CPU. Making a check loads them once, in the thread that makes it."""
    code = (
        "import sys\n"
        "from collectors.http_check import HttpCheckCollector\n"
        "assert 'anyio._backends._asyncio' not in sys.modules\n"
        "HttpCheckCollector('a', 'http://127.0.0.1:9/')\n"
        "assert 'anyio._backends._asyncio' in sys.modules\n"
        "assert 'httpcore._async.connection_pool' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=60)
