"""Tests how collectors run programs: a minimal environment, and nothing left behind after a
timeout, with real children."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from collectors import process

SECRET = "sd-t0ken-never-crosses"


def dump_env_argv(out: Path) -> list[str]:
    """A real child that writes its whole environment to ``out`` as KEY=VALUE lines."""
    code = (
        "import os, sys\n"
        "with open(sys.argv[1], 'w') as f:\n"
        "    f.writelines(f'{k}={v}\\n' for k, v in os.environ.items())\n"
    )
    return [sys.executable, "-I", "-S", "-c", code, str(out)]


def read_env(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def test_a_child_gets_the_locale_path_home_and_tz_and_no_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SD_TOKEN", SECRET)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.setenv("LC_TIME", "C")
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("HOME", str(tmp_path))
    out = tmp_path / "env"
    done = process.run(dump_env_argv(out), timeout=10.0)
    assert done.returncode == 0, done.stderr
    env = read_env(out)
    assert SECRET not in out.read_text()
    assert env["PATH"] == os.environ["PATH"] and env["HOME"] == str(tmp_path)
    assert env["LANG"] == "C.UTF-8" and env["LC_TIME"] == "C" and env["TZ"] == "UTC"
    # Python itself may add LC_CTYPE when it coerces a C locale; nothing else may appear.
    assert set(env) <= {"PATH", "HOME", "LANG", "LC_TIME", "TZ", "LC_CTYPE"}


def test_what_a_child_needs_is_added_on_top() -> None:
    env = process.child_environment({"LC_ALL": "C"}, base={"PATH": "/bin", "SD_TOKEN": "x"})
    assert env == {"PATH": "/bin", "LC_ALL": "C"}


def pids_with(marker: str) -> list[int]:
    """Every process whose command line holds ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue  # it ended while we looked
        if marker.encode() in cmdline:
            found.append(int(entry.name))
    return found


@pytest.fixture
def marker() -> Iterator[str]:
    """A unique sleep length that names this test's children; any left are ended after."""
    mark = f"299.{uuid.uuid4().int % 10**8:08d}"
    yield mark
    for pid in pids_with(mark):
        with contextlib.suppress(ProcessLookupError):  # it may have ended by itself
            os.kill(pid, signal.SIGKILL)


def hanging_wrapper(tmp_path: Path, mark: str) -> Path:
    """A wrapper script, as ``sudo -n smartctl`` is one, whose own child never ends."""
    script = tmp_path / "wrapper"
    script.write_text(f"#!/bin/sh\nsh -c 'sleep {mark}; echo after'\necho done\n")
    script.chmod(0o755)
    return script


def test_a_timeout_ends_the_wrapper_and_everything_it_started(tmp_path: Path, marker: str) -> None:
    script = hanging_wrapper(tmp_path, marker)
    for _ in range(10):
        with pytest.raises(process.ChildTimeout):
            process.run([str(script)], timeout=0.2)
    left = pids_with(marker)
    assert left == [], f"{len(left)} processes left behind after ten timeouts"


def test_a_missing_program_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        process.run([str(tmp_path / "nope")], timeout=1.0)


def test_a_child_that_leaves_the_group_holding_the_pipes_costs_a_bounded_time(
    tmp_path: Path, marker: str
) -> None:
    script = tmp_path / "escaper"
    script.write_text(f"#!/bin/sh\nsetsid sleep {marker} &\nsleep {marker}\n")
    script.chmod(0o755)
    start = time.monotonic()
    with pytest.raises(process.ChildTimeout):
        process.run([str(script)], timeout=0.2)
    took = time.monotonic() - start
    assert took < 0.2 + 2 * process.TERM_GRACE + 1.0, f"took {took:.1f} s"
    # Only the process that left the group on purpose is left (the fixture ends it).
    assert len(pids_with(marker)) == 1
