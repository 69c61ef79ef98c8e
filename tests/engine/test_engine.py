"""Tests the engine: scheduling, bounded series, detectors, hardware limits, errors once."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from collectors.base import Batch, Reading, Status
from engine import Engine, History, SeriesStore
from engine.config import Config
from engine.config_reader import parse


class ListCollector:
    """Returns the batches it was given, one per poll, then empty ones."""

    def __init__(self, name: str, batches: list[Batch], interval: float = 0.01) -> None:
        self.name, self.interval = name, interval
        self.batches = batches
        self.polls = 0

    def poll(self) -> Batch:
        self.polls += 1
        return self.batches.pop(0) if self.batches else Batch(self.name)


def reading(key: str, value: float, t: float, **kw: object) -> Reading:
    return Reading(key, value, "%", t, **kw)  # type: ignore[arg-type]


def test_series_are_bounded() -> None:
    store = SeriesStore(capacity=50)
    for i in range(1000):
        store.append("a", float(i), float(i))
    h = store.tail("a")
    assert len(h) == 50
    assert h.t[0] == 950 and h.t[-1] == 999  # oldest first
    assert list(store.tail("a", 3).x) == [997.0, 998.0, 999.0]
    assert len(store.tail("missing")) == 0


def test_history_memory_stays_flat() -> None:
    engine = Engine(parse("[general]\nhistory = 20"))
    for i in range(500):
        engine.ingest(Batch("s", (reading("m", float(i % 7), float(i)),)))
    assert len(engine.history("m")) == 20


def test_a_spike_is_anomalous_and_ordinary_noise_is_not() -> None:
    mono = [0.0]
    engine = Engine(Config(), monotonic=lambda: mono[0])
    for i in range(60):
        mono[0] = float(i)
        (st,) = engine.ingest(Batch("s", (reading("cpu", 20.0 + (i % 5), float(i)),)))
        assert not st.verdict.anomalous
    mono[0] = 60.0
    (st,) = engine.ingest(Batch("s", (reading("cpu", 95.0, 60.0),)))
    assert st.verdict.anomalous and st.anomalous_since == 60.0
    mono[0] = 61.0
    (st,) = engine.ingest(Batch("s", (reading("cpu", 96.0, 61.0),)))
    assert st.anomalous_since == 60.0  # the run of anomalies keeps its start
    assert engine.history("cpu").anomalous[-2:].all()


def test_detector_chosen_by_glob() -> None:
    config = parse('[detectors.metrics]\n"remote/*/*/time" = "robust_z"')
    assert config.detector_for("remote/blog/sydney/time") == "robust_z"
    assert config.detector_for("system/cpu/total") == "auto"
    engine = Engine(config)
    (st,) = engine.ingest(Batch("r", (reading("remote/blog/sydney/time", 0.1, 1.0),)))
    assert st.detector == "robust_z"


def test_hardware_limits_overrule_the_statistics() -> None:
    engine = Engine(Config())
    (st,) = engine.ingest(
        Batch("s", (reading("sensors/x/temp", 99.0, 1.0, crit=90.0, status=Status.CRITICAL),))
    )
    assert st.verdict.anomalous and st.verdict.severity == "critical"
    text_only = Reading("disk/sda/health", None, "", 1.0, status=Status.CRITICAL, text="FAILED")
    (st,) = engine.ingest(Batch("s", (text_only,)))
    assert st.verdict.anomalous and st.verdict.reason == "FAILED"


def test_a_value_past_its_own_limit_is_anomalous_whatever_the_statistics_say() -> None:
    # Load 8.2 on two cores after a long calm stretch at the same level: the detector has
    # learnt it as normal, the limit says otherwise.
    engine = Engine(parse('[detectors]\ndefault = "robust_z"\n'))
    for t in range(60):
        (st,) = engine.ingest(Batch("system", (Reading("system/load/1m", 8.2, "", t, high=2.0),)))
    assert (st.reading.status, st.verdict.anomalous) == (Status.WARNING, True)
    assert (st.verdict.severity, st.verdict.reason) == ("warning", "above max 2")
    (mem,) = engine.ingest(
        Batch("system", (Reading("system/memory/used", 98.0, "%", 61.0, high=90.0, crit=97.0),))
    )
    assert (mem.verdict.severity, mem.verdict.reason) == ("critical", "above critical 97%")
    hot = Reading("sensors/coretemp-isa-0000/Core 0", 91.0, "°C", 62.0, high=80.0, crit=100.0)
    (core,) = engine.ingest(Batch("sensors", (hot,)))
    assert core.verdict.reason == "above max 80°C"  # the limit in its unit, in words
    (ok,) = engine.ingest(Batch("system", (Reading("system/load/5m", 1.5, "", 62.0, high=2.0),)))
    assert not ok.verdict.anomalous
    alarm = Reading(
        "sensors/c/fan1", 900.0, "RPM", 63.0, low=300.0, status=Status.WARNING, text="ALARM"
    )
    (fan,) = engine.ingest(Batch("sensors", (alarm,)))
    assert (fan.verdict.anomalous, fan.verdict.reason) == (True, "ALARM")


def test_errors_are_reported_once_and_recoveries_too() -> None:
    engine = Engine(Config())
    for _ in range(3):
        engine.ingest(Batch("sensors", errors=("fan2: EIO",)))
    engine.ingest(Batch("sensors", (reading("t", 1.0, 1.0),)))
    texts = [(e.source, e.level, e.text) for e in engine.snapshot().events]
    assert texts == [("sensors", "error", "fan2: EIO"), ("sensors", "info", "recovered")]


def test_a_collector_bug_becomes_an_error_line() -> None:
    class Broken:
        name, interval = "broken", 1.0

        def poll(self) -> Batch:
            raise RuntimeError("boom")

    engine = Engine(Config(), [Broken()])
    engine.ingest(engine.poll_one(Broken()))
    src = engine.snapshot().sources["broken"]
    assert src.errors == ("internal error: RuntimeError: boom",)


def test_a_slow_source_never_delays_another() -> None:
    release = threading.Event()

    class Slow:
        name, interval = "slow", 0.01

        def poll(self) -> Batch:
            release.wait(5)
            return Batch(self.name)

    fast = ListCollector("fast", [], interval=0.01)
    engine = Engine(Config(), [Slow(), fast])
    engine.start()
    try:
        deadline = time.monotonic() + 5
        while fast.polls < 10 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert fast.polls >= 10
    finally:
        release.set()
        engine.stop()


def test_polls_never_overlap() -> None:
    active = [0]
    overlaps = [0]

    class Careful:
        name, interval = "careful", 0.0

        def poll(self) -> Batch:
            active[0] += 1
            overlaps[0] += active[0] > 1
            time.sleep(0.002)
            active[0] -= 1
            return Batch(self.name)

    engine = Engine(Config(), [Careful()])
    engine.start()
    time.sleep(0.1)
    engine.stop()
    assert overlaps[0] == 0 and engine.snapshot().sources["careful"].polls > 5


def test_snapshot_is_immutable_and_cached() -> None:
    engine = Engine(Config())
    engine.ingest(Batch("s", (reading("a", 1.0, 1.0),)))
    s1 = engine.snapshot()
    assert engine.snapshot() is s1
    engine.ingest(Batch("s", (reading("b", 1.0, 1.0),)))
    s2 = engine.snapshot()
    assert s2.version > s1.version and "b" not in s1.metrics and "b" in s2.metrics


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_garbage_values_are_kept_out_of_the_series(value: float) -> None:
    engine = Engine(Config())
    (st,) = engine.ingest(Batch("s", (reading("a", value, 1.0),)))
    assert not st.verdict.anomalous and len(engine.history("a")) == 0


def test_a_poll_written_at_once_is_kept_as_point_by_point() -> None:
    # Series come, go quiet and come back, some twice in one call, past the ring's size and
    # past the store's first rows: extend keeps exactly what append keeps.
    rng = np.random.default_rng(3)
    one, many = SeriesStore(capacity=7), SeriesStore(capacity=7)
    for step in range(40):
        keys = [f"m{i}" for i in rng.choice(150, size=int(rng.integers(1, 90)))]
        if step % 5 == 0:
            keys += keys[:3]  # a series with more than one point in the poll
        t = [float(step)] * len(keys)
        x = rng.normal(0, 1, len(keys)).tolist()
        flags = (rng.random(len(keys)) < 0.2).tolist()
        for point in zip(keys, t, x, flags, strict=True):
            one.append(*point)
        many.extend(keys, t, x, flags)
    assert sorted(one.keys()) == sorted(many.keys())
    for key in sorted(one.keys()):
        for count in (None, 1, 3, 100):
            a, b = one.tail(key, count), many.tail(key, count)
            assert a.t.tolist() == b.t.tolist()
            assert a.x.tolist() == b.x.tolist()
            assert a.anomalous.tolist() == b.anomalous.tolist()


def test_a_loaded_series_keeps_its_newest_points_and_goes_on_from_them() -> None:
    store = SeriesStore(capacity=4)
    store.append("a", 0.0, 0.0)
    t = np.arange(10.0)
    store.load("a", History(t, t * 2, t > 7))
    h = store.tail("a")
    assert h.t.tolist() == [6.0, 7.0, 8.0, 9.0] and h.anomalous.tolist() == [False] * 2 + [True] * 2
    store.extend(["a", "b"], [10.0, 10.0], [20.0, 1.0], [False, False])
    assert store.tail("a").x.tolist() == [14.0, 16.0, 18.0, 20.0]
    assert store.tail("b").x.tolist() == [1.0]
    store.load("c", History(np.zeros(0), np.zeros(0), np.zeros(0, dtype=bool)))
    assert len(store.tail("c")) == 0 and "c" in list(store.keys())
