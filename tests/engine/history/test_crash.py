"""Tests that a writer killed at any moment leaves a sound file with all but its last seconds."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from engine.history import HistoryReader, Tier

ROOT = Path(__file__).resolve().parents[3]
FLUSH = 0.2
KEYS = 20
# Scheduling on a busy machine: the writer wakes every 0.2 s and a flush takes a while.
SLACK = 0.5


def test_kill_9_mid_batch_loses_only_the_last_flush_interval(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    rng = random.Random(9)
    checked = 0
    for _ in range(20):
        child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.engine.history.crash_writer",
                str(path),
                str(KEYS),
                str(FLUSH),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        started = time.time()
        time.sleep(rng.uniform(0.75, 1.25))
        killed_at = time.time()
        child.send_signal(signal.SIGKILL)
        child.wait()
        conn = sqlite3.connect(path)
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        conn.close()
        with HistoryReader(path) as reader:
            for k in range(KEYS):
                points = reader.points(f"crash/{k}", 0, killed_at + 1, Tier.RAW)
                values = [p.value for p in points]
                assert values == [float(i) for i in range(len(values))]  # nothing lost between
                assert [p.anomalous for p in points] == [i % 7 == 0 for i in range(len(values))]
                # Points appended before this were due in the file (the writer appends every
                # few milliseconds from ``started`` on).
                due = killed_at - FLUSH - SLACK
                if started < due:
                    assert points[-1].time >= due - 0.1
                    checked += 1
    assert checked >= 15 * KEYS
