"""Tests that the engine remembers: every judged point reaches the history file, and after a
restart each detector picks up its series where it left off (its season and its baseline)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from collectors.base import Batch, Reading
from engine.config import Config
from engine.config_reader import parse
from engine.engine import Engine, MetricState
from engine.history import HistoryReader, HistoryStore
from engine.remember import StoreArchive

STEP = 300.0
"""Five-minute points: a day is 288 of them."""
DAY = 86400.0
T0 = 1_700_000_000.0 - (1_700_000_000.0 % DAY)


def daily(day: int) -> list[tuple[float, float]]:
    """One day of a series with a daily shape and a little noise."""
    rng = np.random.default_rng(day)
    out = []
    for i in range(int(DAY / STEP)):
        t = T0 + day * DAY + i * STEP
        out.append((t, 50 + 20 * math.sin(2 * math.pi * i * STEP / DAY) + rng.normal(0, 0.5)))
    return out


def third_day_with_a_dip() -> list[tuple[float, float]]:
    """Day three, where the morning rise does not come: only the season says it is odd."""
    points = daily(2)
    for i in range(66, 78):
        t, _ = points[i]
        points[i] = (t, 50.0)
    return points


def feed(engine: Engine, points: list[tuple[float, float]]) -> list[MetricState]:
    out = []
    for t, x in points:
        (st,) = engine.ingest(Batch("test", (Reading("test/daily", x, "", t),)))
        out.append(st)
    return out


def config(detector: str, path: Path) -> Config:
    return parse(f'[detectors]\ndefault = "{detector}"\n[history]\npath = "{path}"\n', "test.toml")


@pytest.mark.parametrize("detector", ["holtwinters", "auto"])
def test_a_restart_flags_what_an_unbroken_run_flags(tmp_path: Path, detector: str) -> None:
    two_days, day3 = daily(0) + daily(1), third_day_with_a_dip()
    unbroken = Engine(config(detector, tmp_path / "a.db"))
    feed(unbroken, two_days)
    expected = feed(unbroken, day3)

    cfg = config(detector, tmp_path / "b.db")
    before = Engine(cfg, archive=StoreArchive(HistoryStore(cfg.history_store)))
    feed(before, two_days)
    before.stop()  # the history file is closed: everything in it
    after = Engine(cfg, archive=StoreArchive(HistoryStore(cfg.history_store)))
    got = feed(after, day3)
    after.stop()

    flagged = [i for i, st in enumerate(expected) if st.verdict.anomalous]
    assert flagged == [i for i, st in enumerate(got) if st.verdict.anomalous]
    assert [st.verdict.score for st in got] == pytest.approx([st.verdict.score for st in expected])
    if detector == "holtwinters":  # the season itself is what sees the missing rise
        assert any(66 <= i < 78 for i in flagged)


def test_without_the_history_a_restart_forgets(tmp_path: Path) -> None:
    """The same run with no history file: the fresh detector has no season to go by."""
    two_days, day3 = daily(0) + daily(1), third_day_with_a_dip()
    unbroken = Engine(config("holtwinters", tmp_path / "a.db"))
    feed(unbroken, two_days)
    expected = [st.verdict.anomalous for st in feed(unbroken, day3)]
    forgetful = Engine(config("holtwinters", tmp_path / "b.db"))
    assert [st.verdict.anomalous for st in feed(forgetful, day3)] != expected


def test_every_judged_point_reaches_the_history_file(tmp_path: Path) -> None:
    cfg = config("robust_z", tmp_path / "h.db")
    engine = Engine(cfg, archive=StoreArchive(HistoryStore(cfg.history_store)))
    feed(engine, daily(0)[:50])
    engine.stop()
    with HistoryReader(cfg.history_store.file) as reader:
        points = reader.points("test/daily", T0 - 1, T0 + DAY)
    assert [p.value for p in points] == pytest.approx([x for _, x in daily(0)[:50]])


def test_an_engine_keeping_few_points_reads_the_rest_from_the_history_file(
    tmp_path: Path,
) -> None:
    """The daemon keeps a minute of each series in memory: its rings stay that size, and a
    screen asking for the configured history still gets it all, from the file."""
    cfg = config("robust_z", tmp_path / "h.db")
    engine = Engine(cfg, archive=StoreArchive(HistoryStore(cfg.history_store)), memory=10)
    points = daily(0)[:50]
    feed(engine, points)
    assert len(engine.store.tail("test/daily")) == 10
    every = engine.history("test/daily")  # the configured 600 points, at most
    assert every.x.tolist() == pytest.approx([x for _, x in points])
    assert every.t.tolist() == pytest.approx([t for t, _ in points])
    assert engine.history("test/daily", 30).x.tolist() == pytest.approx(
        [x for _, x in points[-30:]]
    )
    assert engine.history("test/daily", 5).x.tolist() == [x for _, x in points[-5:]]
    engine.stop()
