"""Provides the base class of every pane: it is handed snapshots and renders only when shown."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import events
from textual.widget import Widget
from textual.widgets import Static

from collectors.base import printable
from tui.widgets import sparkline, update_static

if TYPE_CHECKING:
    from engine import EngineView, MetricState, Snapshot
    from tui.widgets import Row


SPARK_MARGIN = 10
"""Rows either side of the screen whose sparklines are kept current, so a short scroll shows
current lines at once."""


class Pane(Widget):
    """One tab of the main screen.

    The app calls ``show_snapshot`` at the refresh rate, only on the pane that is visible, and
    only when the snapshot changed. A pane never does I/O: what it needs comes in the snapshot,
    from ``engine.history(key)``, or from a worker. Subclasses keep the snapshot they drew in
    ``_snapshot`` so that a new filter or a new size can draw it again.
    """

    TITLE: ClassVar[str] = "Pane"
    """Tab label."""
    PANE_ID: ClassVar[str] = "pane"
    """Unique id of the tab (lowercase, no spaces)."""

    def __init__(self, engine: EngineView, *, id: str | None = None) -> None:
        super().__init__(id=id or self.PANE_ID)
        self.engine = engine
        self._filter = ""
        self._snapshot: Snapshot | None = None
        self._sparks: dict[str, tuple[float, int, str]] = {}
        self._texts: dict[str, str] = {}
        self._drawn: dict[str, Row] = {}
        self._drawn_width = -1

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Render the snapshot; called on the UI thread."""

    def set_filter(self, text: str) -> None:
        """Show only the items whose key contains ``text`` (or matches it, if it is a glob)."""
        self._filter = text.strip()
        self.redraw()

    def redraw(self) -> None:
        """Draw the last snapshot again (after a new filter or size)."""
        if self._snapshot is not None:
            self.show_snapshot(self._snapshot)

    def on_row_table_scrolled(self) -> None:
        self.redraw()

    def on_resize(self, event: events.Resize) -> None:
        # Sparklines are as wide as the screen lets them be: draw again once the layout settled.
        self.call_after_refresh(self.redraw)

    def spark(
        self, state: MetricState | None, width: int, row: int | None = None,
        near: range | None = None,
    ) -> str:  # fmt: skip
        """Return the sparkline of a metric, drawn again only when it has a new point and, when
        ``row`` and ``near`` (the table's ``window``) say where it goes, only when that row is
        near the screen (rows far off it keep their last sparkline until they scroll into view,
        when the table's ``Scrolled`` message makes the pane draw them)."""
        if state is None or state.reading.value is None:
            return ""
        r = state.reading
        cached = self._sparks.get(r.key)
        if cached and cached[0] == r.time and cached[1] == width:
            return cached[2]
        if row is not None and near is not None and row not in near:
            return cached[2] if cached and cached[1] == width else ""
        # Percentages keep their whole scale, so 1 % of noise never looks like a spike.
        lo, hi = (0.0, 100.0) if r.unit == "%" else (None, None)
        text = sparkline(self.engine.history(r.key, width).x, width, lo, hi)
        self._sparks[r.key] = (r.time, width, text)
        return text

    def far_row(self, key: str, index: int, near: range, width: int) -> Row | None:
        """Return the row drawn last time for ``key`` when row ``index`` is far off the screen
        (outside ``near``) and the width is the same: such a row is not worth building anew
        each second for hundreds of metrics; it is built when it scrolls near the screen."""
        if index in near or width != self._drawn_width:
            return None
        return self._drawn.get(key)

    def keep_rows(self, rows: list[Row], width: int) -> None:
        """Remember the rows just drawn, for ``far_row``."""
        self._drawn = {r.key: r for r in rows if not r.heading}
        self._drawn_width = width

    def set_text(self, selector: str, text: str | Sequence[str]) -> None:
        """Update a Static of the pane, only when its text changed.

        Args:
            selector: the Static to update.
            text: one line, or a list of lines. Each line is drawn as plain text, never markup
                (sensor labels and error lines hold brackets that markup would eat), with its
                control characters made visible: a newline or an escape sequence inside a
                name from outside must not break the line or drive the terminal.
        """
        lines = [text] if isinstance(text, str) else list(text)
        shown = "\n".join(printable(line) for line in lines)
        if self._texts.get(selector) != shown:
            self._texts[selector] = shown
            update_static(self.query_one(selector, Static), Text(shown))
