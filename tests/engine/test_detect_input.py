"""Tests ``gongwatch detect`` on files and options nobody should give it but somebody will:
bytes that are not UTF-8, huge fields, NaN and infinite options, repeated and backward
timestamps. Each is one clear line (exit 2) or a full result, never a traceback or a NaN."""

from __future__ import annotations

import csv
import io
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detectors.edm import breakout
from engine.detect_cli import DetectError, ProgressLine, read_series

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
NAB = SHARED / "nab-dev" / "data" / "realKnownCause" / "nyc_taxi.csv"


def gongwatch(*args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("gongwatch", path=os.path.dirname(sys.executable))
    assert exe
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=120)


def one_line_refusal(res: subprocess.CompletedProcess[str], message: str) -> None:
    assert res.returncode == 2, res.stderr
    assert res.stdout == "" and "Traceback" not in res.stderr
    assert res.stderr.count("\n") == 1 and message in res.stderr, res.stderr


def nab_head(rows: int = 400) -> list[bytes]:
    return NAB.read_bytes().splitlines()[: rows + 1]


def test_a_byte_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    lines = nab_head()
    lines[120] = lines[120].replace(b",", b",\xff", 1)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\n".join(lines) + b"\n")
    one_line_refusal(gongwatch("detect", str(bad)), f"{bad}:121: not UTF-8 text (byte 0xff)")


def test_a_field_over_the_csv_limit_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "huge.csv"
    bad.write_text("timestamp,value\n2026-01-01 00:00:00,1\n2026-01-01 00:01:00," + "9" * 200_000)
    one_line_refusal(gongwatch("detect", str(bad)), f"{bad}:3: field larger than field limit")


def test_holtwinters_on_repeated_timestamps_scores_every_row(tmp_path: Path) -> None:
    src = tmp_path / "dup.csv"
    src.write_text("timestamp,value\n" + "".join(f"2026-01-01 00:00:00,{i}\n" for i in range(50)))
    res = gongwatch("detect", str(src), "--detector", "holtwinters")
    assert res.returncode == 0, res.stderr
    assert len(list(csv.DictReader(io.StringIO(res.stdout)))) == 50


def test_options_out_of_range_are_one_line() -> None:
    one_line_refusal(
        gongwatch("detect", str(NAB), "--detector", "season", "--shifts", "inf"),
        "--shifts: must be between 1 and 31,622,400 seconds, got inf",
    )
    one_line_refusal(
        gongwatch("detect", str(NAB), "--detector", "robust_z", "--window", "1000000000000"),
        "--window: must be between 3 and 100,000 points",
    )
    one_line_refusal(
        gongwatch("detect", str(NAB), "--detector", "holtwinters", "--step", "nan"),
        "--step: must be between",
    )


def test_robust_z_near_the_float_limits_writes_no_nan(tmp_path: Path) -> None:
    src = tmp_path / "huge.csv"
    values = [1e308 if i % 7 == 0 else -1e308 for i in range(100)]
    src.write_text(
        "timestamp,value\n" + "".join(f"{1.4e9 + 60 * i},{v!r}\n" for i, v in enumerate(values))
    )
    res = gongwatch("detect", str(src), "--detector", "robust_z")
    assert res.returncode == 0 and res.stderr == ""
    scores = [float(r["anomaly_score"]) for r in csv.DictReader(io.StringIO(res.stdout))]
    assert len(scores) == 100 and all(math.isfinite(s) and 0 <= s <= 1 for s in scores)


def test_an_hour_repeated_by_a_clock_change_is_kept_in_file_order(tmp_path: Path) -> None:
    # Local times of the night clocks go back: 01:00 to 01:55 come twice.
    stamps = [f"2026-10-25 00:{m:02d}:00" for m in range(0, 60, 5)]
    stamps += [f"2026-10-25 01:{m:02d}:00" for m in range(0, 60, 5)] * 2
    stamps += [f"2026-10-25 02:{m:02d}:00" for m in range(0, 60, 5)]
    src = tmp_path / "dst.csv"
    src.write_text("timestamp,value\n" + "".join(f"{s},{i % 7}\n" for i, s in enumerate(stamps)))
    res = gongwatch("detect", str(src), "--detector", "robust_z")
    assert res.returncode == 0, res.stderr
    got = list(csv.DictReader(io.StringIO(res.stdout)))
    assert [r["timestamp"] for r in got] == stamps
    assert res.stderr.count("\n") == 1
    assert "timestamps step back once, by 55 min, at line 26; rows kept in file order" in res.stderr


def test_a_long_run_tells_its_progress() -> None:
    class Clock:
        now = 0.0

        def __call__(self) -> float:
            self.now += 1.0
            return self.now

    out = io.StringIO()
    progress = ProgressLine("edm: ", 1400, out, clock=Clock(), after=2.0, every=1.0)
    x = np.concatenate([np.zeros(700), np.full(700, 5.0)])
    assert breakout(x, 30, "multi", progress=progress) == [700]
    progress.done()
    lines = out.getvalue().splitlines()
    assert lines[0] == "gongwatch detect: edm: 37% of 1,400 rows (2 s)"
    assert len(lines) == 4 and lines[-1].startswith("gongwatch detect: edm: 91% of 1,400 rows")


_MUTATIONS = st.sampled_from(
    [b"\xff", b"\x00", b"nan", b"inf", b"-1e308", b"", b'"', b",,", b"\r", b"1e400", b"\n\n"]
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    at=st.lists(st.tuples(st.integers(0, 40), st.integers(0, 30), _MUTATIONS), max_size=4),
    swap=st.booleans(),
)
def test_the_reader_reads_or_refuses_in_one_line(
    at: list[tuple[int, int, bytes]], swap: bool
) -> None:
    lines = nab_head(40)
    for row, col, text in at:
        lines[row] = lines[row][:col] + text + lines[row][col:]
    if swap:
        lines[5], lines[30] = lines[30], lines[5]
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"gongwatch-read-{os.getpid()}.csv"
    path.write_bytes(b"\n".join(lines))
    try:
        series = read_series(path)
    except DetectError as exc:
        assert "\n" not in str(exc)
        return
    finally:
        path.unlink()
    assert len(series.t) == len(series.x) == len(series.stamps)
    assert all(math.isfinite(t) for t in series.t.tolist())
