"""Tests that the engine's banks of ``auto`` judge as one ``Auto`` per series would: sources
polled at different intervals, series that appear mid-run, miss polls or send garbage, values at
different times in one poll, warm starts from a real history file, and a detector changed by
a reload."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from collectors.base import Batch, Reading
from detectors.auto import Auto
from detectors.auto_each import FEW, AutoEach
from detectors.auto_rows import AutoRows
from detectors.base import QUIET
from engine.config import Config
from engine.config_reader import parse
from engine.engine import Engine, MetricState, combine
from engine.history import HistoryStore
from engine.remember import StoreArchive, warm
from tests.engine.history.reads import count_reads
from tests.verdicts import assert_same

T0 = 1_700_000_000.0
FAST, SLOW = 10.0, 60.0
"""Seconds between two polls of the two sources."""
WARMED = ("fast/a", "slow/x", "fast/d")
"""Series the history file holds points of before the run."""
STORED = 1500
"""How many: enough that a climb to a new high is news (it takes about 1,300 points)."""


def config(path: Path) -> Config:
    return parse(
        f'[detectors.metrics]\n"fast/r" = "robust_z"\n[history]\npath = "{path}"\n', "test.toml"
    )


def fast_batch(i: int, rng: np.random.Generator) -> Batch:
    """Every 10 s: a spiky series, a climb, a gappy series with garbage, a late one, and one
    judged by another detector."""
    t = T0 + FAST * i
    a = rng.normal(50, 2) + (40.0 if i in (400, 401, 402) else 0.0) + 0.5 * min(max(i - 600, 0), 40)
    readings = [
        Reading("fast/a", a, "", t),
        Reading("fast/b", 0.05 * i + rng.normal(0, 0.2), "", t),
    ]
    if i % 4:
        c = [math.nan, math.inf, None][i % 3] if i % 13 == 0 else rng.normal(5, 1)
        readings.append(Reading("fast/c", c, "", t))  # type: ignore[arg-type]
    if i >= 300:  # appears mid-run
        readings.append(Reading("fast/d", rng.normal(-20, 3) + (60.0 if i == 500 else 0.0), "", t))
    readings.append(Reading("fast/r", rng.normal(1, 0.1), "", t))
    return Batch("fast", tuple(readings))


def slow_batch(i: int, rng: np.random.Generator) -> Batch:
    """Every 60 s: values at two times in one poll, and now and then a series twice."""
    t = T0 + SLOW * i + 3.0
    readings = [
        Reading("slow/x", rng.normal(100, 10), "", t),
        Reading("slow/y", rng.normal(0, 1), "", t + 1.0),
    ]
    if i % 7 == 0:
        readings.append(
            Reading("slow/x", rng.normal(100, 10) + (90.0 if i == 70 else 0.0), "", t + 30.0)
        )
    return Batch("slow", tuple(readings))


def store_history(cfg: Config) -> None:
    """Points the series left in the history file before the run (ending before it starts)."""
    rng = np.random.default_rng(5)
    archive = StoreArchive(HistoryStore(cfg.history_store))
    for key, level in zip(WARMED, (50.0, 100.0, -20.0), strict=True):
        for j in range(STORED):
            archive.append(key, T0 - FAST * (STORED - j), level + rng.normal(0, 2))
    archive.close()


def test_banks_judge_as_one_auto_per_series(tmp_path: Path) -> None:
    cfg = config(tmp_path / "h.db")
    store_history(cfg)
    engine = Engine(cfg, archive=StoreArchive(HistoryStore(cfg.history_store)))
    # The same series, each with an ``Auto`` of its own warmed from the same file.
    mine: dict[str, Auto] = {}
    references = StoreArchive(HistoryStore(cfg.history_store))
    for key in WARMED:
        mine[key] = Auto()
        assert warm(mine[key], references, key) == STORED
    references.close()
    rng_f, rng_s = np.random.default_rng(1), np.random.default_rng(2)
    reasons = []
    try:
        for i in range(700):
            batches = [fast_batch(i, rng_f)] + ([slow_batch(i // 6, rng_s)] if i % 6 == 0 else [])
            for batch in batches:
                for st in engine.ingest(batch):
                    r = st.reading
                    if r.key == "fast/r":
                        assert st.detector == "robust_z"
                        continue
                    det = mine.setdefault(r.key, Auto())
                    want = combine(r, QUIET if r.value is None else det.update(r.time, r.value))
                    assert_same(st.verdict, want, f"{r.key} at poll {i}")
                    reasons.append(want.reason)
    finally:
        engine.stop()
    # The comparison saw what matters: reasons of both kinds, and runs that went on.
    assert any("its usual change" in w for w in reasons)
    assert any("above its highest" in w or "below its lowest" in w for w in reasons)
    assert any(w.endswith("(ongoing)") for w in reasons)


class Named:
    """A source that is only a name: the test ingests its batches itself."""

    def __init__(self, name: str) -> None:
        self.name, self.interval = name, 1.0

    def poll(self) -> Batch:
        return Batch(self.name)


def test_a_reload_forgets_the_series_of_a_gone_source_and_of_a_changed_detector() -> None:
    rng = np.random.default_rng(3)
    fast, slow = Named("fast"), Named("slow")
    engine = Engine(Config(), [fast, slow])
    mine: dict[str, Auto] = {}

    def poll(i: int, keys: list[str]) -> dict[str, MetricState]:
        batches: dict[str, list[Reading]] = {}
        for key in keys:
            batches.setdefault(key.split("/")[0], []).append(
                Reading(key, rng.normal(0, 1), "", 10.0 * i)
            )
        out = {}
        for source, readings in batches.items():
            for st in engine.ingest(Batch(source, tuple(readings))):
                if st.detector == "auto":
                    want = mine.setdefault(st.key, Auto()).update(st.reading.time, st.reading.value)
                    assert_same(st.verdict, want, f"{st.key} at poll {i}")
                out[st.key] = st
        return out

    for i in range(100):
        poll(i, ["fast/a", "fast/b", "slow/x"])
    engine.reconfigure(parse('[detectors.metrics]\n"fast/b" = "robust_z"\n'), [slow])
    del mine["fast/a"]  # its source is gone: back, it starts afresh
    for i in range(100, 200):
        states = poll(i, ["fast/a", "fast/b", "slow/x"])
        assert states["fast/b"].detector == "robust_z"
    engine.reconfigure(Config(), [fast, slow])
    del mine["fast/b"]  # auto again: a new one
    for i in range(200, 300):
        poll(i, ["fast/a", "fast/b", "slow/x"])


def test_a_series_silent_for_a_day_is_gone_and_comes_back_afresh() -> None:
    rng = np.random.default_rng(4)
    engine = Engine(Config())
    mine: dict[str, Auto] = {}
    for i in range(24 * 12):  # twelve days of hourly polls; every day, new series
        day = i // 24
        keys = ["churn/steady", f"churn/day{day}/a", f"churn/day{day}/b"]
        if day in (0, 1, 5):
            keys.append("churn/back")  # silent for three days: afresh on its return
        if day == 5 and i % 24 == 0:
            del mine["churn/back"]
        batch = Batch("churn", tuple(Reading(k, rng.normal(0, 1), "", 3600.0 * i) for k in keys))
        for st in engine.ingest(batch):
            want = mine.setdefault(st.key, Auto()).update(st.reading.time, st.reading.value)
            assert_same(st.verdict, want, f"{st.key} at poll {i}")
    rows = engine._judges._banks["churn"].rows
    # The rows of gone series are reused: the bank holds the last day's, not all twelve days'.
    assert len(rows) <= 6 and rows.capacity <= 64


def test_the_new_series_of_a_poll_are_warmed_with_one_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Forty new series, thirty judged in a bank and ten by objects of their own: one read
    transaction of the history file for each kind, not one per series."""
    cfg = parse(
        f'[detectors.metrics]\n"many/r*" = "robust_z"\n[history]\npath = "{tmp_path / "h.db"}"\n',
        "test.toml",
    )
    keys = [f"many/a{i}" for i in range(30)] + [f"many/r{i}" for i in range(10)]
    rng = np.random.default_rng(6)
    archive = StoreArchive(HistoryStore(cfg.history_store))
    for key in keys:
        for j in range(300):
            archive.append(key, T0 - FAST * (300 - j), rng.normal(5, 1))
    archive.close()
    reads = count_reads(monkeypatch)
    engine = Engine(cfg, archive=StoreArchive(HistoryStore(cfg.history_store)))
    try:
        before = reads.transactions
        states = engine.ingest(Batch("many", tuple(Reading(k, 5.0, "", T0) for k in keys)))
        assert reads.transactions - before == 2
        assert {st.detector for st in states} == {"auto", "robust_z"}
    finally:
        engine.stop()


def test_a_source_judges_its_few_series_alone_and_banks_them_when_many() -> None:
    """An HTTP check is a source of one series: its ``Auto`` steps alone. A source whose
    series grow to ``FEW`` moves them into one bank mid-run, a run going on across the move."""
    rng = np.random.default_rng(8)
    engine = Engine(Config())
    mine: dict[str, Auto] = {}
    kinds, reasons = set(), []
    for i in range(400):
        shift = 30.0 if 150 <= i < 190 else 0.0  # a level that moves and stays a while
        keys = [f"grow/{j}" for j in range(min(3 + i // 10, FEW + 5))]
        readings = [
            Reading(k, rng.normal(0, 1) + (shift if k == "grow/0" else 0.0), "", i) for k in keys
        ]
        for st in engine.ingest(Batch("grow", tuple(readings))):
            want = mine.setdefault(st.key, Auto()).update(st.reading.time, st.reading.value)
            assert_same(st.verdict, want, f"{st.key} at poll {i}")
            reasons.append((i, want.reason))
        kinds.add((len(keys) >= FEW, type(engine._judges._banks["grow"].rows)))
    assert kinds == {(False, AutoEach), (True, AutoRows)}
    moved = 10 * (FEW - 3)  # the poll of the move
    assert any(i > moved and w.endswith("(ongoing)") for i, w in reasons)
    assert any(i < moved and "its usual change" in w for i, w in reasons)
