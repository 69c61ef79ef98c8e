"""Tests that the command line limits glibc's malloc arenas before its threads start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine import cli
from engine.arenas import ARENAS, limit_arenas

ROOT = Path(__file__).resolve().parents[2]

# Eight threads allocate at once (blocks above pymalloc's 512 bytes go to malloc), then glibc
# says how many arenas it made.
PROBE = """
import ctypes, sys, threading
from engine.arenas import limit_arenas
print(limit_arenas() if LIMIT else "unlimited", flush=True)
barrier = threading.Barrier(8)
def work():
    barrier.wait()
    keep = [bytearray(4096) for _ in range(200)]
    barrier.wait()
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
ctypes.CDLL(None).malloc_stats()
"""


def arenas(limit: bool, arena_max: str = "") -> tuple[str, int]:
    code = f"LIMIT = {limit!r}\n{PROBE}"
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    if arena_max:
        env["MALLOC_ARENA_MAX"] = arena_max
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip(), sum(line.startswith("Arena ") for line in out.stderr.splitlines())


def test_the_limit_holds_however_many_threads_allocate() -> None:
    said, count = arenas(limit=True)
    assert said == "True"
    assert 1 <= count <= ARENAS
    # Without it, glibc gives the threads arenas of their own: the probe can tell.
    assert arenas(limit=False)[1] > ARENAS


def test_a_limit_in_the_environment_stands(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_arenas() is False
    said, count = arenas(limit=True, arena_max="4")
    assert said == "False" and ARENAS < count <= 4


def test_the_console_script_limits_them_first(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(cli, "limit_arenas", lambda: calls.append("limit") or True)
    monkeypatch.setattr(cli, "main", lambda: calls.append("main") or 0)
    assert cli.run() == 0
    assert calls == ["limit", "main"]
