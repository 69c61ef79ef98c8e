"""Tests the spans a chart reads: the tier chosen for each length, the buckets they are merged
into, and the recent points in memory when the engine keeps no history file."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from collectors.base import Batch, Reading
from engine.config import Config
from engine.engine import Engine
from engine.history import HistoryConfig, HistoryReader, HistoryStore
from engine.remember import StoreArchive
from engine.span import MAX_POINTS, SpanError, bucket_step, read_span
from tests.history_fill import daily_series, fill

END = 1_795_000_000.0
DAY = 86400.0


@pytest.fixture(scope="module")
def two_series(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A busy series (a point every 5 s) and a slow one (every 5 minutes), three days each."""
    path = tmp_path_factory.mktemp("span") / "history.db"
    fill(path, "busy", *daily_series(END, 3, 5.0))
    t, x = daily_series(END, 3, 300.0)
    fill(path, "slow", t, x)
    return path


def test_a_slow_series_is_read_raw_while_the_file_keeps_its_points(two_series: Path) -> None:
    with HistoryReader(two_series) as reader:
        busy = read_span(reader, "busy", END - DAY, END, 1000)
        slow = read_span(reader, "slow", END - DAY, END, 1000)
        older = read_span(reader, "slow", END - 7 * DAY, END, 1000)
    assert (busy.tier, busy.step) == ("minute", 120.0)  # 1 441 rollups, merged to fit
    assert (slow.tier, slow.step, len(slow)) == ("raw", 0.0, 289)  # its own points, both ends in
    assert not slow.envelope and busy.envelope
    assert older.tier == "minute"  # a week reaches past the raw points the file keeps


def test_buckets_keep_the_extremes_and_every_sample(two_series: Path) -> None:
    t, x = daily_series(END, 3, 5.0)
    with HistoryReader(two_series) as reader:
        span = read_span(reader, "busy", END - 3 * DAY - 60, END, 100)
    assert len(span) <= 100 and span.step == bucket_step(3 * DAY + 60, 100, 60)
    assert span.count.sum() == len(t) and span.high.max() == x.max() == 200.0
    assert span.low.min() == x.min() and span.anomalies.sum() == (x > 90).sum()
    means = np.array([x[np.floor(t / span.step) * span.step == b].mean() for b in span.t])
    assert span.x == pytest.approx(means)


def test_without_a_history_file_the_span_comes_from_memory() -> None:
    engine = Engine(Config(history=100))
    for i in range(150):
        engine.ingest(Batch("test", (Reading("m", float(i), "", END - 150 + i),)))
    span = engine.span("m", END - 60, END, 1000)
    assert span.tier == "memory" and len(span) == 60 and span.x[-1] == 149.0
    assert len(engine.span("m", END - DAY, END, 10**9)) == 100 <= MAX_POINTS


def test_a_file_that_cannot_be_read_is_one_line(two_series: Path, tmp_path: Path) -> None:
    path = tmp_path / "broken.db"
    shutil.copy(two_series, path)
    archive = StoreArchive(HistoryStore(HistoryConfig(), path=path))
    engine = Engine(Config(), archive=archive)
    try:
        with sqlite3.connect(path) as conn:
            conn.execute("DROP TABLE minute")
        with pytest.raises(SpanError, match=rf"^cannot read {path}: no such table: minute$"):
            engine.span("busy", END - DAY, END, 500)
    finally:
        engine.stop()
