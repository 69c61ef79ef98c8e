"""Provides CommandLine: a one-line command box with a shell-like history."""

from __future__ import annotations

from collections import deque
from typing import ClassVar

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input


class CommandHistory:
    """Commands sent from the command line, browsed like a shell's history."""

    def __init__(self, size: int = 100) -> None:
        self.entries: deque[str] = deque(maxlen=size)
        self._pos = 0

    def add(self, line: str) -> None:
        """Remember a line (not twice in a row) and go back to the end."""
        if line and (not self.entries or self.entries[-1] != line):
            self.entries.append(line)
        self._pos = len(self.entries)

    def step(self, direction: int) -> str:
        """Return the older (-1) or newer (1) entry; past the newest, an empty line."""
        self._pos = max(0, min(len(self.entries), self._pos + direction))
        return self.entries[self._pos] if self._pos < len(self.entries) else ""


class CommandLine(Input):
    """The raw command line: up and down browse the history, escape empties it and leaves.

    While it holds a line the location key put there, untouched, that key cycles to the next
    location instead of being typed.
    """

    BINDINGS: ClassVar = [
        Binding("up", "history(-1)", "Older command", show=False),
        Binding("down", "history(1)", "Newer command", show=False),
        Binding("escape", "leave", "Leave", show=False),
    ]
    CYCLE_KEY = "l"
    """The key that puts the next location on the line (the pane's ``set_location``)."""

    class Left(Message):
        """The user left the command line with escape."""

    class CycleAsked(Message):
        """The cycle key was pressed on a line it filled in."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            placeholder="command, e.g. ping, gong, london slow, all off",
            id=id,
            select_on_focus=False,  # the location key fills it in for editing, not replacing
        )
        self.history = CommandHistory()
        self.prefilled = False
        """Whether the line is what the location key put there, not yet edited."""

    def fill(self, line: str, *, prefilled: bool = False) -> None:
        """Replace the line, with the cursor at its end."""
        self.value, self.prefilled = line, prefilled
        self.cursor_position = len(line)

    async def _on_key(self, event: events.Key) -> None:
        if self.prefilled and event.character == self.CYCLE_KEY:
            event.stop()
            event.prevent_default()
            self.post_message(self.CycleAsked())
            return
        self.prefilled = False
        await super()._on_key(event)

    def action_history(self, direction: int) -> None:
        """Show an older or newer command."""
        self.fill(self.history.step(direction))

    def action_leave(self) -> None:
        """Empty the line and leave it."""
        self.fill("")
        self.post_message(self.Left())
