"""Tests ``gongwatch history`` on a real history file: its function and the command."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.history import HistoryStore
from engine.history.cli import cmd_history

T0 = 1_790_000_100.0
NOW = T0 + 3 * 86400


@pytest.fixture
def history_file(tmp_path: Path) -> Path:
    path = tmp_path / "h.db"
    with HistoryStore(path=path, chunk_points=120) as store:
        store.set_unit("system/cpu/total", "%")
        # Three days at one point every 10 s, anomalous above 95.
        for i in range(3 * 8640):
            value = float(i % 100)
            store.append("system/cpu/total", T0 + 10 * i, value, anomalous=value > 95)
    return path


def run(path: Path, key: str, since: str, json_lines: bool) -> tuple[int, str]:
    out = io.StringIO()
    status = cmd_history(path, key, since, json_lines, now=NOW, out=out)
    return status, out.getvalue()


def test_json_lines_of_raw_points(history_file: Path) -> None:
    status, out = run(history_file, "system/cpu/total", "1m", json_lines=True)
    rows = [json.loads(line) for line in out.splitlines()]
    assert status == 0 and len(rows) == 6
    assert rows[0] == {"time": NOW - 60, "value": 14.0, "anomalous": False}
    assert [r["value"] for r in rows] == [14.0, 15.0, 16.0, 17.0, 18.0, 19.0]


def test_json_lines_of_rollups_for_a_long_span(history_file: Path) -> None:
    status, out = run(history_file, "system/cpu/total", "2d", json_lines=True)
    rows = [json.loads(line) for line in out.splitlines()]
    assert status == 0 and 2 * 1440 <= len(rows) <= 2 * 1440 + 1  # 1-minute rollups
    row = rows[1]
    assert set(row) == {"time", "value", "min", "max", "count", "anomalies"}
    assert row["count"] == 6 and row["max"] - row["min"] == 5
    assert row["value"] == pytest.approx((row["min"] + row["max"]) / 2)
    status, out = run(history_file, "system/cpu/total", "30d", json_lines=True)
    rows = [json.loads(line) for line in out.splitlines()]
    assert status == 0 and len(rows) == 3 * 96 and rows[0]["count"] == 90  # 15-minute
    assert sum(r["anomalies"] for r in rows) == 3 * 8640 * 4 // 100


def test_a_table_with_the_unit(history_file: Path) -> None:
    status, out = run(history_file, "system/cpu/total", "30s", json_lines=False)
    lines = out.splitlines()
    assert status == 0
    assert lines[0].split() == ["time", "value", "(%)"]
    assert len(lines) == 1 + 3 and lines[-1].split()[-1] == "19"
    status, out = run(history_file, "system/cpu/total", "7d", json_lines=False)
    assert out.splitlines()[0].split() == ["time", "mean", "(%)", "min", "max", "count", "!"]


def test_user_errors_are_one_line(
    history_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(history_file, "no/such/metric", "1h", json_lines=True) == (1, "")
    assert (
        capsys.readouterr().err.strip()
        == f"gongwatch: no metric 'no/such/metric' in {history_file}"
    )
    assert run(tmp_path / "none.db", "k", "1h", json_lines=True) == (1, "")
    assert "no history file at" in capsys.readouterr().err
    assert run(history_file, "system/cpu/total", "2 days", json_lines=True) == (1, "")
    assert (
        capsys.readouterr().err.strip()
        == "gongwatch: not a duration: '2 days' (write 90s, 10m, 2h, 7d or 2y)"
    )


def test_an_empty_span_says_so(history_file: Path) -> None:
    out = io.StringIO()
    assert cmd_history(history_file, "system/cpu/total", "1h", now=T0 - 86400, out=out) == 0
    assert out.getvalue().splitlines()[-1] == "(no points in that span)"


def test_gongwatch_history_reads_the_configured_file(history_file: Path, tmp_path: Path) -> None:
    gongwatch = Path(sys.executable).with_name("gongwatch")
    config = tmp_path / "c.toml"
    config.write_text(f'[history]\npath = "{history_file}"\nraw = "1d"\n')
    out = subprocess.run(
        [str(gongwatch), "--config", str(config), "history", "system/cpu/total", "--since", "10y"],
        capture_output=True,
        text=True,
        check=False,
    )
    # The test's data lies within ten years of now, so a span that long holds all of it.
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0].split()[:3] == ["time", "mean", "(%)"]
    out = subprocess.run(
        [
            str(gongwatch),
            "history",
            "system/cpu/total",
            "--json",
            "--since",
            "5y",
            "--file",
            str(history_file),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert out.returncode == 0 and sum(r["count"] for r in rows) == 3 * 8640


def test_a_bad_history_table_names_its_key_and_line(tmp_path: Path) -> None:
    gongwatch = Path(sys.executable).with_name("gongwatch")
    config = tmp_path / "c.toml"
    config.write_text('[history]\nraw = "2d"\nminute = "a month"\n')
    out = subprocess.run(
        [str(gongwatch), "--config", str(config), "history", "k"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 2
    assert out.stderr.strip().startswith(f"gongwatch: {config}:3: history.minute: not a duration")
