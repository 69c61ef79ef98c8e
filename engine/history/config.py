"""Provides the history store's settings: where the file lives and how long each tier is kept."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.durations import parse_duration

DAY = 86400.0


def default_path() -> Path:
    """``$XDG_STATE_HOME/gongwatch/history.db``, else ``~/.local/state/gongwatch/history.db``."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "gongwatch" / "history.db"


class HistoryConfigError(ValueError):
    """A ``[history]`` key has a value that cannot be used."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{key}: {reason}")
        self.key = key
        """The dotted key, e.g. ``history.raw``."""
        self.reason = reason
        """What is wrong with it."""


@dataclass(frozen=True, slots=True)
class HistoryConfig:
    """What the ``[history]`` table of the configuration says, with its defaults."""

    path: Path | None = None
    """The SQLite file; None means :func:`default_path`."""
    raw: float = 2 * DAY
    """Seconds raw points are kept."""
    minute: float = 30 * DAY
    """Seconds 1-minute rollups are kept."""
    quarter: float = 2 * 365 * DAY
    """Seconds 15-minute rollups are kept."""

    @property
    def file(self) -> Path:
        """The file to open: ``path`` with ``~`` expanded, or the default."""
        return self.path.expanduser() if self.path is not None else default_path()

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> HistoryConfig:
        """Build the settings from a parsed ``[history]`` TOML table.

        Raises:
            HistoryConfigError: a key is unknown or a value is not a duration.
        """
        known = {"path", "raw", "minute", "quarter"}
        unknown = sorted(set(table) - known)
        if unknown:
            names = ", ".join(sorted(known))
            raise HistoryConfigError(f"history.{unknown[0]}", f"unknown key (known: {names})")
        values: dict[str, Any] = {}
        if "path" in table:
            if not isinstance(table["path"], str) or not table["path"]:
                raise HistoryConfigError("history.path", "expected a file path")
            values["path"] = Path(table["path"])
        for key in ("raw", "minute", "quarter"):
            if key in table:
                try:
                    values[key] = parse_duration(table[key])
                except ValueError as error:
                    raise HistoryConfigError(f"history.{key}", str(error)) from None
                if values[key] <= 0:
                    raise HistoryConfigError(f"history.{key}", "must be longer than 0s")
        return cls(**values)
