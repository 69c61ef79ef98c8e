"""Tests ``gongwatch replay`` over real history files, and its alignment of a machine's series."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from detectors.base import QUIET, Verdict
from engine.history import HistoryConfig, HistoryStore
from engine.replay import align, machines, resolution_breaks, runs
from engine.replay_cli import cmd_replay
from tests.conftest import require_tool
from tests.engine import rrd_files
from tests.engine.rrd_files import SPIKE

T0 = 1_790_000_000.0


def gongwatch(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("gongwatch", path=os.path.dirname(sys.executable))
    assert exe, "the gongwatch console script is not installed in this environment"
    env = {**os.environ, "XDG_CONFIG_HOME": str(home), "XDG_STATE_HOME": str(home), "NO_COLOR": "1"}
    return subprocess.run([exe, *args], capture_output=True, text=True, env=env, timeout=120)


def test_runs_group_consecutive_anomalous_points_with_the_peak_reason() -> None:
    bad = [Verdict(0.6, True, reason="a"), Verdict(0.9, True, reason="b")]
    verdicts = [QUIET, *bad, QUIET, Verdict(0.7, True, reason="c")]
    found = runs("m", [1.0, 2.0, 3.0, 4.0, 5.0], verdicts)
    assert [(r.start, r.end, r.points, r.peak, r.reason) for r in found] == [
        (2.0, 3.0, 2, 0.9, "b"),
        (5.0, 5.0, 1, 0.7, "c"),
    ]


def test_align_takes_the_nearest_point_within_one_step() -> None:
    fine = (np.arange(0.0, 200.0, 10.0), np.arange(20.0))
    # A 30 s series, 4 s late, missing its points from 94 to 154.
    coarse = (np.array([4.0, 34.0, 64.0, 184.0]), np.array([1.0, 2.0, 3.0, 4.0]))
    times, matrix = align([coarse, fine])
    assert list(times) == list(fine[0])  # the finest series gives the times
    assert list(matrix[:, 1]) == list(fine[1])
    # 20 is 16 s from 4 and 14 s from 34; from 100 to 150 the nearest point is over 30 s away.
    expected = [1, 1, 2, 2, 2, 3, 3, 3, 3, 3] + [np.nan] * 6 + [4, 4, 4, 4]
    np.testing.assert_array_equal(matrix[:, 0], expected)


def test_a_series_breaks_where_its_resolution_changes_not_at_an_outage() -> None:
    week = np.arange(0.0, 5000.0, 500.0)  # ten points at 500 s
    day = np.arange(5040.0, 5740.0, 70.0)  # ten at 70 s, the seam gap 40 s
    hours = np.arange(5750.0, 5850.0, 10.0)
    t = np.concatenate([week, day, hours])
    assert resolution_breaks(t) == [10, 20]
    outage = np.concatenate([np.arange(0.0, 50.0), np.arange(110.0, 160.0)])
    assert resolution_breaks(outage) == []
    events = np.cumsum(np.random.default_rng(1).exponential(10.0, 200))
    assert resolution_breaks(events) == []


def test_machines_are_found_by_the_endings_of_their_keys() -> None:
    keys = [
        "import/web1/load/shortterm",
        "import/web1/load/midterm",
        "import/web1/memory/used",
        "import/web1/processes/ps_state-zombies",
        "import/web2/load/shortterm",  # alone: not a machine to judge
        "system/load/1m",
        "system/procs/zombies",
    ]
    assert machines(keys) == {
        "import/web1": {
            "load": "import/web1/load/shortterm",
            "memory": "import/web1/memory/used",
            "zombies": "import/web1/processes/ps_state-zombies",
        },
        "system": {"load": "system/load/1m", "zombies": "system/procs/zombies"},
    }


@pytest.fixture
def spiky(tmp_path: Path) -> Path:
    rng = np.random.default_rng(3)
    db = tmp_path / "h.db"
    with HistoryStore(path=db) as store:
        for i in range(2000):
            value = 50 + rng.normal(0, 1) + (40 if 1500 <= i < 1505 else 0)
            store.append("system/cpu/total", T0 + i, value)
            store.append("system/memory/used", T0 + i, 30 + rng.normal(0, 0.5))
    return db


def test_replay_finds_the_spike_and_only_it(spiky: Path) -> None:
    out = io.StringIO()
    status = cmd_replay(spiky, "system/*", None, "gaussian", json_lines=True, out=out)
    assert status == 0
    found = [json.loads(line) for line in out.getvalue().splitlines()]
    spikes = [r for r in found if r["metric"] == "system/cpu/total" and r["peak"] > 0.9]
    assert [(r["start"], r["end"]) for r in spikes] == [(T0 + 1500, T0 + 1504)]
    # Gaussian noise passes 4 sigma now and then; never for long.
    assert all(r["points"] <= 2 for r in found if r not in spikes)


def test_replay_since_leaves_older_points_out(spiky: Path) -> None:
    out = io.StringIO()
    now = T0 + 2000
    assert cmd_replay(spiky, "system/cpu/*", "400s", "gaussian", True, now=now, out=out) == 0
    # The last 400 s start at 1600, after the spike at 1500-1504: only noise is left.
    found = [json.loads(line) for line in out.getvalue().splitlines()]
    assert all(r["start"] >= now - 400 for r in found)
    assert not any(r["peak"] > 0.9 for r in found)


def test_replay_says_what_is_wrong_in_one_line(
    spiky: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cmd_replay(spiky, "nothing/*") == 1
    assert cmd_replay(spiky, "*", detector="nope") == 1
    assert cmd_replay(spiky, "*", detector="gaussian-machine") == 1
    assert cmd_replay(tmp_path / "none.db") == 1
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 4
    assert "no metric matching 'nothing/*'" in lines[0]
    assert "unknown detector 'nope'" in lines[1] and "gaussian-machine" in lines[1]
    assert "no machine" in lines[2]
    assert "no history file" in lines[3]


def test_console_script_imports_rrd_files_and_replays_the_anomaly(tmp_path: Path) -> None:
    rrdtool = require_tool("rrdtool")
    files = rrd_files.machine(rrdtool, tmp_path / "rrd")
    db = str(tmp_path / "h.db")
    done = gongwatch("import", "--file", db, *map(str, files), home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 4
    done = gongwatch("replay", "import/web1/load/shortterm", "--file", db, "--json", home=tmp_path)
    assert done.returncode == 0, done.stderr
    found = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(r["start"], r["end"], r["points"]) for r in found] == [(SPIKE[0], SPIKE[1] - 10, 12)]
    assert found[0]["peak"] > 0.9
    done = gongwatch("replay", "--detector", "gaussian-machine", "--file", db, home=tmp_path)
    assert done.returncode == 0, done.stderr
    # The anomaly alone: no run where the 70 s archive gives way to the 10 s one.
    lines = done.stdout.splitlines()
    assert len(lines) == 2, done.stdout
    assert lines[0].startswith("import/web1 [load+memory+processes+zombies]  ")
    assert " 12 pts  peak 1.00  " in lines[0] and "zombies z=+" in lines[0]
    assert lines[1] == "1 anomalous runs in 1 series (gaussian-machine)"


def test_replay_reads_minute_means_where_raw_points_have_expired(tmp_path: Path) -> None:
    config = HistoryConfig(raw=3600.0)
    db = tmp_path / "h.db"
    rng = np.random.default_rng(5)
    with HistoryStore(config, path=db) as store:
        # Twelve hours at 10 s; a jump for ten minutes in the fourth hour, long since raw.
        for i in range(12 * 360):
            jump = 40.0 if 3 * 360 <= i < 3 * 360 + 60 else 0.0
            store.append("system/cpu/total", T0 + 10 * i, 50 + rng.normal(0, 1) + jump)
    out = io.StringIO()
    assert cmd_replay(db, "system/*", json_lines=True, config=config, out=out) == 0
    found = [json.loads(line) for line in out.getvalue().splitlines()]
    jumps = [r for r in found if r["peak"] > 0.9]
    # The jump is seen in the 1-minute means, one point a minute from its minute on.
    minute = (T0 + 3 * 3600) // 60 * 60
    assert [(r["start"], r["points"]) for r in jumps] == [(minute, 10)]


def test_a_span_a_batch_detector_refuses_is_one_line_and_the_rest_is_judged(
    spiky: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = io.StringIO()
    # S-H-ESD with a period of 1440 points needs two periods; these series have 2000 points.
    assert cmd_replay(spiky, "system/*", None, "shesd", out=out) == 0
    assert out.getvalue().splitlines()[-1] == "0 anomalous runs in 2 series (shesd)"
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("gongwatch: system/cpu/total: shesd left 2000 points out: ")
