"""Tests that a source's thread never dies quietly: whatever escapes a poll is recorded, shown
as ``stopped: <reason>`` and retried; and that a config the reader accepts, at the edges of its
ranges, neither kills a thread nor makes it spin."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from collectors.base import Batch, Reading
from engine import Engine
from engine.config import Config
from engine.config_reader import RANGES, parse
from engine.sources import build_collectors


class Boom(BaseException):
    """Not an Exception: what a library's ``sys.exit`` or a stray BaseException looks like."""


class FlakyCollector:
    """Raises ``error()`` while ``failing`` is set, else returns one reading per poll."""

    def __init__(self, error: Callable[[], BaseException], interval: float = 0.05) -> None:
        self.name, self.interval = "flaky", interval
        self.error = error
        self.failing = threading.Event()
        self.failing.set()
        self.polls = 0

    def poll(self) -> Batch:
        self.polls += 1
        if self.failing.is_set():
            raise self.error()
        return Batch(self.name, (Reading("flaky/value", float(self.polls), "", time.time()),))


def wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_a_base_exception_in_a_poll_is_recorded_and_the_source_restarts() -> None:
    flaky = FlakyCollector(lambda: Boom("the library gave up"))
    engine = Engine(Config(), [flaky])  # type: ignore[list-item]
    engine.start()
    try:
        assert wait_for(lambda: engine.snapshot().sources["flaky"].stopped is not None)
        state = engine.snapshot().sources["flaky"]
        assert state.stopped == "Boom: the library gave up" and state.restarts >= 1
        texts = [e.text for e in engine.events_since(0)]
        assert texts == ["stopped: Boom: the library gave up (restarting)"]
        assert all(th.is_alive() for th in engine._threads)
        flaky.failing.clear()
        assert wait_for(lambda: "flaky/value" in engine.snapshot().metrics, 8.0)
        assert wait_for(lambda: engine.snapshot().sources["flaky"].stopped is None)
        assert [e.text for e in engine.events_since(0)][-1] == "running again"
    finally:
        engine.stop()


def test_an_observer_that_raises_does_not_end_the_thread() -> None:
    flaky = FlakyCollector(lambda: Boom("unused"))
    flaky.failing.clear()
    engine = Engine(Config(), [flaky])  # type: ignore[list-item]
    calls = []

    def observer(batch: Batch, changed: object) -> None:
        calls.append(batch)
        if len(calls) == 1:
            raise KeyError("an alert rule's bug")

    engine.subscribe(observer)
    engine.start()
    try:
        assert wait_for(lambda: len(calls) >= 2, 8.0)  # the thread came back after the error
        assert any("KeyError" in e.text for e in engine.events_since(0))
    finally:
        engine.stop()


def test_extreme_but_valid_intervals_neither_die_nor_spin() -> None:
    low, high, _ = RANGES["interval"]
    config = parse(
        f"[general]\nhistory = {int(RANGES['history'][1])}\nrefresh = {RANGES['refresh'][0]}\n"
        f"[collectors.system]\ninterval = {low}\n"
        f"[collectors.sensors]\ninterval = {high}\n"
        "[collectors.smart]\nenabled = false\n"
    )
    engine = Engine(config, build_collectors(config))
    engine.start()
    try:
        time.sleep(1.5)
        sources = engine.snapshot().sources
        assert all(th.is_alive() for th in engine._threads)
        # 0.1 s between polls: about 15 in 1.5 s, never the thousands of a busy loop.
        assert 4 <= sources["system"].polls <= 20, sources["system"].polls
        assert sources["sensors"].polls == 1 and sources["system"].stopped is None
        assert len(engine.history("system/cpu/total")) >= 3
    finally:
        began = time.monotonic()
        engine.stop()
    assert time.monotonic() - began < 2.0  # a day-long wait still ends at once on stop


def test_the_first_snapshot_lists_every_source_before_it_has_polled() -> None:
    quiet = FlakyCollector(lambda: Boom("unused"), interval=60.0)
    engine = Engine(Config(), [quiet])  # type: ignore[list-item]
    sources = engine.snapshot().sources
    assert list(sources) == ["flaky"] and sources["flaky"].interval == 60.0
