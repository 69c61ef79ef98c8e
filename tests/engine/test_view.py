"""Tests the embedded engine as the ``EngineView`` the TUI reads: events by number, history."""

from __future__ import annotations

from collectors.base import Batch, Reading
from engine import Engine, EngineView
from engine.config import Config


def reading(key: str, value: float, t: float) -> Reading:
    return Reading(key, value, "", t)


def test_events_since_returns_only_the_newer_events_in_order() -> None:
    engine = Engine(Config())
    view: EngineView = engine
    assert view.events_since(0) == ()
    engine.ingest(Batch("sensors", errors=("fan2: EIO",)))
    engine.ingest(Batch("smart", unavailable="smartctl not found"))
    first = view.events_since(0)
    assert [(e.source, e.level, e.text) for e in first] == [
        ("sensors", "error", "fan2: EIO"),
        ("smart", "warning", "smartctl not found"),
    ]
    assert view.events_since(first[-1].seq) == ()
    engine.ingest(Batch("sensors", (reading("t", 1.0, 1.0),)))
    (newer,) = view.events_since(first[-1].seq)
    assert (newer.source, newer.text) == ("sensors", "recovered")
    assert newer.seq > first[-1].seq


def test_history_and_snapshot_through_the_view() -> None:
    engine = Engine(Config())
    for i in range(5):
        engine.ingest(Batch("s", (reading("m", float(i), float(i)),)))
    view: EngineView = engine
    assert list(view.history("m", 3).x) == [2.0, 3.0, 4.0]
    assert len(view.history("unknown")) == 0
    assert view.snapshot().metrics["m"].reading.value == 4.0
    assert view.config.refresh == Config().refresh
