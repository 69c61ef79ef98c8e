"""Provides the history store: every reading on disk in tiers, readable while it is written."""

from engine.history.config import HistoryConfig, HistoryConfigError, default_path
from engine.history.query import Point, Samples, Tier
from engine.history.reader import HistoryReader
from engine.history.schema import SchemaError
from engine.history.store import HistoryStats, HistoryStore

__all__ = [
    "HistoryConfig",
    "HistoryConfigError",
    "HistoryReader",
    "HistoryStats",
    "HistoryStore",
    "Point",
    "Samples",
    "SchemaError",
    "Tier",
    "default_path",
]
