"""Provides the base class of every pane: it is handed snapshots and renders only when shown."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.widget import Widget

if TYPE_CHECKING:
    from tui.engine import Engine, Snapshot


class Pane(Widget):
    """One tab of the main screen.

    The app calls ``show_snapshot`` at the refresh rate, only on the pane that is visible, and
    only when the snapshot changed. A pane never does I/O: what it needs comes in the snapshot,
    from ``engine.history(key)``, or from a worker.
    """

    TITLE: ClassVar[str] = "Pane"
    """Tab label."""
    PANE_ID: ClassVar[str] = "pane"
    """Unique id of the tab (lowercase, no spaces)."""

    def __init__(self, engine: Engine, *, id: str | None = None) -> None:
        super().__init__(id=id or self.PANE_ID)
        self.engine = engine

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Render the snapshot; called on the UI thread."""

    def set_filter(self, text: str) -> None:
        """Show only the items whose key contains ``text`` (panes without a list ignore it)."""
