"""Tests that the engine never stops silently: a detector's or a subscriber's exception becomes
an event and polling goes on, a slow subscriber never delays a poll, quiet sources show stale."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

import detectors
from collectors.base import Batch, Reading
from detectors.auto import Auto
from detectors.auto_bank import AutoBank
from engine import Engine, SourceState
from engine.config import Config
from engine.config_reader import parse
from engine.engine import stale_sources


class Counter:
    """A source of one metric, counting its polls."""

    def __init__(self, name: str = "counter", interval: float = 0.01) -> None:
        self.name, self.interval, self.polls = name, interval, 0

    def poll(self) -> Batch:
        self.polls += 1
        return Batch(self.name, (Reading(f"{self.name}/n", float(self.polls)),))


def wait_for(test: Callable[[], bool], limit: float = 5.0) -> None:
    deadline = time.monotonic() + limit
    while not test():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def texts(engine: Engine) -> list[str]:
    return [e.text for e in engine.snapshot().events]


@pytest.mark.parametrize("detector", ["auto", "robust_z"])
def test_a_detector_that_raises_becomes_an_event_and_polling_goes_on(
    monkeypatch: pytest.MonkeyPatch, detector: str
) -> None:
    def broken(*args: Any, **kw: Any) -> Any:
        raise KeyError("state")

    class Broken:
        update = broken

    # ``auto`` series are judged by an ``Auto`` each in a source of few series, together in a
    # bank in a source of many; every other detector is an object.
    monkeypatch.setattr(AutoBank, "update", broken)
    monkeypatch.setattr(Auto, "update", broken)
    monkeypatch.setattr(detectors, "create", lambda name, **kw: Broken())
    source = Counter()
    engine = Engine(parse(f'[detectors]\ndefault = "{detector}"\n'), [source])
    engine.start()
    try:
        wait_for(lambda: source.polls > 5)
    finally:
        engine.stop()
    assert f"detector {detector} failed: KeyError: 'state'" in texts(engine)
    assert engine.snapshot().metrics["counter/n"].reading.value is not None


def test_an_observer_that_raises_becomes_an_event_and_the_others_still_run() -> None:
    seen: list[Batch] = []

    def broken(batch: Batch, changed: list[Any]) -> None:
        raise RuntimeError("subscriber bug")

    source = Counter()
    engine = Engine(Config(), [source])
    engine.subscribe(broken)
    engine.subscribe(lambda batch, changed: seen.append(batch))
    engine.start()
    try:
        wait_for(lambda: len(seen) > 5 and source.polls > 5)
    finally:
        engine.stop()
    assert any("broken failed: RuntimeError: subscriber bug" in t for t in texts(engine))


def test_a_slow_observer_never_delays_a_poll_and_drops_are_reported() -> None:
    release = threading.Event()
    observed: list[threading.Thread] = []

    def hung(batch: Batch, changed: list[Any]) -> None:
        observed.append(threading.current_thread())
        release.wait(10)  # a history write on a stuck disk, a hung alert command

    source = Counter()
    engine = Engine(Config(), [source], observer_queue=10)
    engine.subscribe(hung)
    engine.start()
    try:
        wait_for(lambda: source.polls > 50)  # polls go on while the observer hangs
        assert engine.dropped > 0
        release.set()
        wait_for(lambda: any("observers fell behind" in t for t in texts(engine)))
    finally:
        release.set()
        engine.stop()
    assert observed and all(th.name == "observers" for th in observed)


def test_observers_run_inline_until_the_engine_starts() -> None:
    seen: list[str] = []
    engine = Engine(Config())
    engine.subscribe(lambda batch, changed: seen.append(threading.current_thread().name))
    engine.ingest(Batch("s", (Reading("a", 1.0),)))
    assert seen == [threading.current_thread().name]


def test_a_source_quiet_for_three_intervals_is_stale() -> None:
    now = 1000.0
    fresh = SourceState("a", 1.0, polls=3, last_poll=now - 2.9)
    quiet = SourceState("b", 1.0, polls=3, last_poll=now - 3.1)
    starting = SourceState("c", 1.0)
    assert not fresh.is_stale(now) and quiet.is_stale(now) and not starting.is_stale(now)
    assert stale_sources({"a": fresh, "b": quiet, "c": starting}, now) == ["b"]


def test_stop_leaves_no_engine_thread() -> None:
    before = set(threading.enumerate())
    engine = Engine(Config(), [Counter("x"), Counter("y")])
    engine.subscribe(lambda batch, changed: None)
    engine.start()
    # The first snapshot (version 0) lists no source yet.
    wait_for(lambda: (x := engine.snapshot().sources.get("x")) is not None and x.polls > 2)
    engine.stop()
    assert set(threading.enumerate()) - before == set()
