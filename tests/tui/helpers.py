"""Provides a deterministic app for TUI tests: recorded readings, a fixed clock and host."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from collectors.base import Batch, Reading, Status
from collectors.replay import ReplayCollector
from engine import Engine
from engine.config import Config
from tui.app import GongwatchApp, make_app

DATA = Path(__file__).resolve().parent.parent / "data"
FIXED_NOW = datetime(2026, 11, 22, 16, 40, 12, tzinfo=UTC)


def recorded_engine(config: Config | None = None, polls: int | None = None) -> Engine:
    """An engine fed, synchronously, with the recorded polls of a real machine."""
    engine = Engine(config or Config())
    replay = ReplayCollector(DATA / "system_readings.jsonl")
    for _ in range(len(replay) if polls is None else polls):
        engine.ingest(replay.poll())
    return engine


def spike(
    engine: Engine, key: str = "system/load/1m", value: float = 9.5, status: Status = Status.OK
) -> None:
    """Feed one clearly anomalous point after the recording."""
    last = engine.snapshot().metrics[key].reading
    point = Reading(key, value, last.unit, last.time + 1.0, high=2.0, status=status)
    engine.ingest(Batch("test", (point,)))


def test_app(engine: Engine | None = None) -> GongwatchApp:
    """The app on a recorded engine, with no threads, a fixed clock and a fixed host name."""
    return make_app(
        engine=engine or recorded_engine(),
        clock=lambda: FIXED_NOW,
        hostname="testhost",
        autostart=False,
    )


async def until(
    pilot: Pilot[Any], test: Callable[[], bool], limit: float = 20.0, pause: float = 0.1
) -> None:
    """Let the screen run until ``test()`` holds; fail after ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while not test():
        assert time.monotonic() < deadline, "condition not met in time"
        await pilot.pause(pause)
