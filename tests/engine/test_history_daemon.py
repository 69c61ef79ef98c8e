"""Tests ``gongwatch history`` through a real daemon: it asks the daemon when one answers on the
socket, prints what reading the file prints, and reads the file itself only when no daemon
answers or ``--file`` names one."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.daemon_process import QUIET_SOURCES, ROOT, DaemonProcess
from tests.history_fill import daily_series, fill

KEY = "test/daily"
NOW = time.time()
GAP = 600.0
"""No points within this many seconds of where a ``--since`` span starts: the two commands
compared run a moment apart, and their spans must hold the same points."""
SPANS = ("6h", "1d", "7d", "30d")


@pytest.fixture(scope="module")
def history_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    t, x = daily_series(NOW - 3 * 3600, 3, 5.0)
    keep = np.ones(len(t), dtype=bool)
    for start in (NOW - 6 * 3600, NOW - 86400):
        keep &= np.abs(t - start) > GAP
    path = tmp_path_factory.mktemp("cli") / "history.db"
    fill(path, KEY, t[keep], x[keep])
    return path


@pytest.fixture
def daemon(history_file: Path) -> Iterator[DaemonProcess]:
    with DaemonProcess(QUIET_SOURCES) as d:
        shutil.copy(history_file, d.dir / "history.db")
        d.write_config(f'{QUIET_SOURCES}\n[history]\npath = "{d.dir / "history.db"}"\n')
        d.start()
        yield d


def gongwatch(config: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "engine.cli", "--config", str(config), "history", KEY, *args]
    return subprocess.run(
        argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )


def screen_config(d: DaemonProcess) -> Path:
    """A configuration that finds the daemon but names a history file that does not exist:
    whatever it prints must have come from the daemon."""
    path = d.dir / "elsewhere.toml"
    path.write_text(f'[daemon]\nsocket = "{d.socket}"\n[history]\npath = "{d.dir / "no.db"}"\n')
    return path


def test_history_through_the_daemon_equals_the_file_read(daemon: DaemonProcess) -> None:
    config, file = screen_config(daemon), str(daemon.dir / "history.db")
    for since in SPANS:
        for form in (["--json"], []):
            got = gongwatch(config, daemon.env, "--since", since, *form)
            assert got.returncode == 0, got.stderr
            direct = gongwatch(config, daemon.env, "--since", since, "--file", file, *form)
            assert direct.returncode == 0, direct.stderr
            assert got.stdout == direct.stdout, (since, form)
    lines = gongwatch(config, daemon.env, "--since", "1d", "--json").stdout.splitlines()
    # A day of 1-minute rollups of the series, less the gap where the span starts.
    assert len(lines) > 1000 and {"min", "max", "count"} <= set(json.loads(lines[0]))


def test_an_unknown_metric_says_so_the_same_way(daemon: DaemonProcess) -> None:
    config, file = screen_config(daemon), str(daemon.dir / "history.db")
    argv = [sys.executable, "-m", "engine.cli", "--config", str(config), "history", "no/such"]
    run = lambda *extra: subprocess.run(  # noqa: E731
        [*argv, *extra], env=daemon.env, cwd=ROOT, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    through, direct = run(), run("--file", file)
    assert through.returncode == direct.returncode == 1
    assert through.stderr == direct.stderr == f"gongwatch: no metric 'no/such' in {file}\n"


def test_with_no_daemon_the_file_is_read(daemon: DaemonProcess) -> None:
    config = screen_config(daemon)
    assert daemon.stop() == 0
    got = gongwatch(config, daemon.env, "--since", "1d")
    assert got.returncode == 1
    assert got.stderr == f"gongwatch: no history file at {daemon.dir / 'no.db'}\n"
    file = daemon.dir / "history.db"
    (daemon.dir / "elsewhere.toml").write_text(
        f'[daemon]\nsocket = "{daemon.socket}"\n[history]\npath = "{file}"\n'
    )
    got = gongwatch(config, daemon.env, "--since", "1d", "--json")
    assert got.returncode == 0 and len(got.stdout.splitlines()) > 1000
