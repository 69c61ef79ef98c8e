"""Tests the backfill of the Prometheus collector against Debian's Prometheus scraping a real node
exporter: the past of each series read with ``query_range`` when the source starts, fed to its
detectors and its history before the live points, bounded, and never in the way of live polls."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import detectors
from collectors.base import Batch, Reading
from collectors.prometheus_range import MOST_POINTS, window
from engine import Engine
from engine.config import Config
from engine.history import HistoryStore
from engine.remember import StoreArchive
from tests.prometheus_servers import Lab, StallingProxy, running_lab, wait_for

PAST = 8
"""Scrapes (one a second) Prometheus holds before the tests begin."""


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with running_lab(tmp_path_factory.mktemp("prometheus")) as running:
        key = f'node_load1{{instance="{running.node.address}"}}[60s]'
        wait_for("some past in Prometheus", lambda: len(
            (running.prometheus.query(key) or [{"values": []}])[0]["values"]
        ) >= PAST or None, 30.0)  # fmt: skip
        yield running


def polls(engine: Engine, name: str) -> int:
    source = engine.snapshot().sources.get(name)
    return source.polls if source is not None else 0


def events(engine: Engine) -> list[str]:
    return [f"{e.source}: {e.text}" for e in engine.events_since(0)]


def test_the_past_of_every_series_the_first_poll_read(lab: Lab) -> None:
    collector = lab.collector(interval=1.0, backfill=60.0)
    live = {r.key for r in collector.poll().readings if not r.key.endswith("/up")}
    started = time.time()
    past = collector.backfill()
    assert past.error is None
    assert set(past.series) <= live and len(past.series) >= len(live) - 2
    load = past.series[f"hosts/{lab.node.address}/node_load1"]
    times = [t for t, _ in load]
    assert len(load) >= PAST and times == sorted(times) and times[-1] <= started + 1
    steps = np.diff(times)
    assert np.all(np.abs(steps - 1.0) < 1e-6)  # the step is the source's interval
    assert past.units[f"hosts/{lab.node.address}/node_memory_MemTotal_bytes"] == "B"


def test_the_past_is_bounded_per_series_and_in_all(lab: Lab) -> None:
    assert window(1e9, 86_400.0, 1.0, 1).points == MOST_POINTS
    assert window(1e9, 3_600.0, 15.0, 1_000, total=100_000).points == 100
    collector = lab.collector(interval=1.0, backfill=3_600.0)
    series = len([r for r in collector.poll().readings if not r.key.endswith("/up")])
    collector.backfill_total = 3 * series
    past = collector.backfill()
    assert past.error is None and past.series
    assert max(len(p) for p in past.series.values()) <= 3
    assert past.points <= 3 * series


def test_a_started_source_has_warm_detectors_and_history_in_order(lab: Lab, tmp_path: Path) -> None:
    collector = lab.collector(interval=1.0)  # the default span: 300 intervals
    store = HistoryStore(path=tmp_path / "history.db")
    engine = Engine(Config(), [collector], archive=StoreArchive(store))
    key = f"hosts/{lab.node.address}/node_load1"
    started = time.time()
    engine.start()
    try:
        wait_for("backfilled", lambda: any("backfilled" in e for e in events(engine)) or None)
        wait_for("a live point after", lambda: engine.history(key).t[-1] > started or None)
    finally:
        engine.stop()
    hist = engine.history(key)
    assert hist.t[0] < started - PAST + 2 and np.all(np.diff(hist.t) > 0)
    points = store.recent(key, 10_000)
    times = [p.time for p in points]
    assert times == sorted(times) and times[0] < started - PAST + 2 and times[-1] > started
    # The engine's detector has seen exactly those points, oldest first: it judges the next
    # point as a fresh one fed them does.
    reference = detectors.create(engine.detector_name(key))
    for t, x in zip(hist.t.tolist(), hist.x.tolist(), strict=True):
        reference.update(t, x)
    probe = Reading(key, float(hist.x[-1]) * 3 + 1, "", float(hist.t[-1]) + 0.5)
    (state,) = engine.ingest(Batch(collector.name, (probe,)))
    expected = reference.update(probe.time, probe.value)
    assert state.verdict.anomalous == expected.anomalous
    assert state.verdict.score == pytest.approx(expected.score, abs=1e-9)


def test_a_slow_range_query_never_delays_the_live_polls(lab: Lab) -> None:
    proxy = StallingProxy(lab.prometheus.url)
    collector = lab.collector(interval=0.5, timeout=3.0)
    collector.url = proxy.url
    engine = Engine(Config(), [collector])
    t0 = time.monotonic()
    engine.start()
    try:
        wait_for("three live polls", lambda: polls(engine, collector.name) >= 3 or None, 10.0)
        assert time.monotonic() - t0 < 2.9  # all while the range query still hangs
        line = wait_for("one line", lambda: next(
            (e for e in events(engine) if "query_range" in e), None), 10.0)  # fmt: skip
        assert line.startswith(f'{collector.name}: query_range {{job="node"}}: ')
        assert line.endswith("; live points only") and "\n" not in line
        done = polls(engine, collector.name)
        wait_for("live polls go on", lambda: polls(engine, collector.name) > done + 1 or None)
    finally:
        engine.stop()
        proxy.stop()


def test_a_failing_range_query_is_one_line_then_live_only(lab: Lab) -> None:
    proxy = StallingProxy(lab.prometheus.url, fail=True)
    collector = lab.collector(interval=0.5)
    collector.url = proxy.url
    engine = Engine(Config(), [collector])
    engine.start()
    try:
        line = wait_for("one line", lambda: next(
            (e for e in events(engine) if "query_range" in e), None), 10.0)  # fmt: skip
        assert "HTTP 503" in line and line.endswith("; live points only")
        wait_for("live polls", lambda: polls(engine, collector.name) >= 3 or None, 10.0)
        assert sum("query_range" in e for e in events(engine)) == 1
    finally:
        engine.stop()
        proxy.stop()
