"""Provides the screen an attach-only monitor shows when no daemon answers."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Static


class NoDaemonApp(App[int]):
    """Says, on the screen it was given, that there is no daemon to show; quits with 3."""

    TITLE = "gongwatch"
    BINDINGS = [Binding("q", "quit_no_daemon", "Quit")]

    def __init__(self, reason: str) -> None:
        """Args:
        reason: the line to show.
        """
        super().__init__()
        self.reason = reason

    def compose(self) -> ComposeResult:
        yield Static(f"gongwatch: {self.reason}", id="no-daemon")
        yield Footer()

    def action_quit_no_daemon(self) -> None:
        self.exit(3)
