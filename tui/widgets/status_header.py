"""Provides the one-line header: host, uptime, clock and whether the display is paused."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.widgets import Static

from collectors.base import printable
from engine.format import duration
from tui.widgets.static_text import update_static


class StatusHeader(Static):
    """Shows ``gongwatch │ host │ up 3d 04:05 │ 2026-11-22 16:40:12 │ PAUSED``, then a note
    (a source whose thread stopped)."""

    DEFAULT_CSS = """
    StatusHeader { height: 1; background: $panel; color: $text; text-style: bold; }
    """

    def __init__(self, hostname: str, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.hostname = hostname
        self._last = ""

    def show(self, now: datetime, uptime: float | None, paused: bool, note: str = "") -> None:
        """Redraw the header when its text changed (so a still second costs nothing)."""
        parts = ["gongwatch", self.hostname]
        if uptime is not None:
            parts.append(f"up {duration(uptime)}")
        parts.append(now.strftime("%Y-%m-%d %H:%M:%S"))
        if paused:
            parts.append("PAUSED (p to resume)")
        if note:
            parts.append(note)
        text = " " + " │ ".join(parts)
        if text != self._last:
            self._last = text
            # Plain text: a note quotes errors, whose brackets markup would eat.
            update_static(self, Text(printable(text)))
