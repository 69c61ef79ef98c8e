"""Provides the engine that runs collectors and detectors without any UI."""

from engine.engine import Engine, Event, MetricState, Snapshot, SourceState
from engine.series import History, SeriesStore
from engine.sources import build_collectors
from engine.view import EngineView

__all__ = [
    "Engine",
    "EngineView",
    "Event",
    "History",
    "MetricState",
    "SeriesStore",
    "Snapshot",
    "SourceState",
    "build_collectors",
]
