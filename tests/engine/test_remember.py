"""Tests that the engine remembers: every judged point reaches the history file, and after a
restart each detector picks up its series where it left off (its season and its baseline)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pytest

from collectors.base import Batch, Reading
from detectors.auto import Auto
from detectors.auto_rows import AutoRows
from engine.config import Config
from engine.config_reader import parse
from engine.engine import Engine, MetricState
from engine.history import HistoryReader, HistoryStore, Point, Samples
from engine.remember import StoreArchive, Warmer, warm
from tests.verdicts import assert_same

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


class Gated:
    """The history store, whose first read waits until the test lets it go: meanwhile the
    other threads' asks queue up. ``bad``: a key whose points come back with no time."""

    def __init__(self, store: HistoryStore, bad: str = "", broken: bool = False) -> None:
        self.store, self.bad, self.broken = store, bad, broken
        self.reads: list[list[str]] = []
        self.release = threading.Event()

    def recent(self, key: str, n: int) -> list[Point]:
        return self.store.recent(key, n)

    def recent_many(self, wants: Mapping[str, int]) -> dict[str, Samples]:
        self.reads.append(list(wants))
        if len(self.reads) == 1:
            assert self.release.wait(10)
        if self.broken and len(self.reads) > 1:
            raise RuntimeError("a bug")
        got = self.store.recent_many(wants)
        if self.bad in got:
            got[self.bad] = Samples(
                got[self.bad].t * np.nan, got[self.bad].x, got[self.bad].anomalous
            )
        return got


def warm_together(gated: Gated, banks: dict[str, AutoRows]) -> dict[str, BaseException]:
    """Warm each bank's one new series from a thread of its own, all asking at once."""
    warmer, failed = Warmer(gated), {}

    def ask(key: str) -> None:
        try:
            warmer.rows(banks[key], [key])
        except (ValueError, RuntimeError) as exc:
            failed[key] = exc

    threads = [threading.Thread(target=ask, args=(k,)) for k in banks]
    threads[0].start()  # the first reads alone; the others ask while it reads
    until(lambda: len(gated.reads) == 1)
    for th in threads[1:]:
        th.start()
    until(lambda: len(warmer._waiting) == len(banks) - 1)
    gated.release.set()
    for th in threads:
        th.join()
    return failed


def until(done: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not done():
        assert time.monotonic() < deadline
        time.sleep(0.01)


def stored_checks(path: Path) -> list[str]:
    """Twelve series polled every 5 s a moment apart, as HTTP checks of their own are."""
    keys = [f"remote/check{i}/local/time" for i in range(12)]
    rng = np.random.default_rng(9)
    with HistoryStore(path=path) as store:
        for j in range(400):
            for i, key in enumerate(keys):
                store.append(key, T0 + 5.0 * j + 0.07 * i, rng.gamma(2.0, 0.05))
    return keys


def test_sources_starting_together_are_warmed_with_one_read_and_one_replay(
    tmp_path: Path,
) -> None:
    keys = stored_checks(tmp_path / "h.db")
    banks = {k: AutoRows() for k in keys}
    for key, rows in banks.items():
        rows.add([key])
    with HistoryStore(path=tmp_path / "h.db") as store:
        gated = Gated(store)
        assert warm_together(gated, banks) == {}
        first, rest = gated.reads
        assert first == keys[:1] and sorted(rest) == sorted(keys[1:])  # then all the others
        rng = np.random.default_rng(10)
        for key in keys:
            alone = Auto()
            assert warm(alone, store, key) == 400
            for i in range(60):
                t, x = T0 + 2000.0 + 5.0 * i, rng.gamma(2.0, 0.05) + (1.0 if i == 40 else 0.0)
                assert_same(banks[key].step(t, [key], [x])[0], alone.update(t, x), (key, i))


def test_a_series_that_cannot_be_replayed_costs_its_own_source_only(tmp_path: Path) -> None:
    keys = stored_checks(tmp_path / "h.db")
    banks = {k: AutoRows() for k in keys}
    for key, rows in banks.items():
        rows.add([key])
    with HistoryStore(path=tmp_path / "h.db") as store:
        gated = Gated(store, bad=keys[5])
        failed = warm_together(gated, banks)
    assert list(failed) == [keys[5]] and "not a number" in str(failed[keys[5]])
    warmed = [k for k in keys if banks[k].bank.i["n"][0] > 0]
    assert warmed == [k for k in keys if k != keys[5]]


def test_a_bug_while_serving_a_group_reaches_every_thread_of_the_group(tmp_path: Path) -> None:
    keys = stored_checks(tmp_path / "h.db")
    banks = {k: AutoRows() for k in keys}
    for key, rows in banks.items():
        rows.add([key])
    with HistoryStore(path=tmp_path / "h.db") as store:
        failed = warm_together(Gated(store, broken=True), banks)
    assert sorted(failed) == sorted(keys[1:])  # none goes on unwarmed without a word
    assert all(isinstance(exc, RuntimeError) for exc in failed.values())
