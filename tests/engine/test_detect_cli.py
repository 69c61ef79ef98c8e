"""Tests ``gongwatch detect`` as a user runs it: NAB's output format, R's answers, clear errors."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
EXTDATA = SHARED / "twitter" / "extdata.csv"


def gongwatch(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("gongwatch", path=os.path.dirname(sys.executable))
    assert exe
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=120, cwd=cwd)


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_shesd_through_the_cli_matches_r(tmp_path: Path) -> None:
    out = tmp_path / "scores.csv"
    res = gongwatch(
        "detect", str(EXTDATA), "--detector", "shesd", "--period", "24",
        "--max-anoms", "0.02", "--direction", "both", "--out", str(out),
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    got = rows(out.read_text())
    assert list(got[0]) == ["timestamp", "value", "anomaly_score"]
    flagged = [i + 1 for i, r in enumerate(got) if float(r["anomaly_score"]) == 1.0]
    expected_file = SHARED / "twitter" / "expected_shesd_extdata_both_period24_maxanoms0.02.csv"
    expected = sorted(int(r["index"]) for r in rows(expected_file.read_text()))
    assert flagged == expected
    assert {float(r["anomaly_score"]) for r in got} <= {0.0, 1.0}


def test_streaming_detector_writes_a_score_per_row(tmp_path: Path) -> None:
    src = tmp_path / "s.csv"
    lines = ["timestamp,value"] + [
        f"2026-01-01 00:{i // 60:02d}:{i % 60:02d},{10 + i % 3}" for i in range(300)
    ]
    lines.append("2026-01-01 00:05:00,500")
    src.write_text("\n".join(lines) + "\n")
    res = gongwatch("detect", str(src), "--detector", "robust_z", "--window", "50")
    assert res.returncode == 0, res.stderr
    got = rows(res.stdout)
    assert len(got) == 301 and got[0]["timestamp"] == "2026-01-01 00:00:00"
    scores = [float(r["anomaly_score"]) for r in got]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert scores[-1] == max(scores) and scores[-1] > 0.9
    assert got[-1]["value"] == "500"  # values are written as they were read


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--detector", "nope"], "unknown detector 'nope'"),
        (["--detector", "robust_z", "--period", "3"], "detector robust_z has no option --period"),
        (["--detector", "shesd", "--period", "x"], "--period: expected int"),
        (["--detector", "shesd", "--direction", "up"], "--direction: choose from pos, neg, both"),
    ],
)
def test_option_errors_are_one_line(args: list[str], message: str) -> None:
    res = gongwatch("detect", str(EXTDATA), *args)
    assert res.returncode == 2
    assert message in res.stderr and res.stderr.count("\n") == 1 and "Traceback" not in res.stderr


def test_input_errors_name_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,value\n2026-01-01 00:00:00,1\nyesterday,2\n")
    res = gongwatch("detect", str(bad))
    assert res.returncode == 2 and f"{bad}:3: not a timestamp,value row" in res.stderr
    res = gongwatch("detect", str(tmp_path / "missing.csv"))
    assert res.returncode == 2 and "No such file" in res.stderr


def test_a_closed_pipe_is_not_an_error() -> None:
    exe = shutil.which("gongwatch", path=os.path.dirname(sys.executable))
    cmd = f"'{exe}' detect '{EXTDATA}' --detector robust_z | head -2"
    res = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, timeout=60)
    assert res.stdout.count("\n") == 2 and "Traceback" not in res.stderr
