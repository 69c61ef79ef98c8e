"""Provides the recorded readings the exporter tests send, moved to end now (servers with a
retention window, like whisper's, refuse points from last week)."""

from __future__ import annotations

import math
import time
from dataclasses import replace
from pathlib import Path

from collectors.base import Batch
from collectors.replay import ReplayCollector
from engine.config import Config
from engine.engine import Engine

DATA = Path(__file__).parents[2] / "data"
RECORDINGS = [DATA / "stand_in_readings.jsonl", DATA / "system_readings.jsonl"]


def recorded_batches(now: float | None = None) -> list[Batch]:
    """Return every recorded poll, oldest first, the newest ending at ``now``."""
    polls = []
    for path in RECORDINGS:
        replay = ReplayCollector(path)
        polls.extend(replay.poll() for _ in range(len(replay)))
    last = max(r.time for b in polls for r in b.readings)
    shift = (now or time.time()) - last
    return [
        replace(b, readings=tuple(replace(r, time=r.time + shift) for r in b.readings))
        for b in polls
    ]


def numeric_points(batches: list[Batch]) -> dict[str, dict[int, float]]:
    """Return each key's finite values by whole second (the last of a second wins)."""
    out: dict[str, dict[int, float]] = {}
    for b in batches:
        for r in b.readings:
            if r.value is not None and math.isfinite(r.value):
                out.setdefault(r.key, {})[int(r.time)] = r.value
    return out


def feed(config: Config, batches: list[Batch]) -> Engine:
    """Start an engine with no sources on ``config`` and ingest ``batches``."""
    engine = Engine(config)
    engine.start()
    for b in batches:
        engine.ingest(b)
    return engine
