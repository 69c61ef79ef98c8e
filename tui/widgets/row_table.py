"""Provides RowTable: a scrolling table drawn line by line, redrawing only the rows that changed."""

from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from collectors.base import printable


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a RowTable."""

    width: int
    """Cells wide at the least; 0 makes it a flexible column that starts from nothing."""
    align: str = "left"
    """``left`` or ``right``."""
    grow: float = 0.0
    """Share of the width left over that this column takes (a column of width 0 takes a share
    of 1 unless told otherwise), so wide terminals show more of each text, not more blank."""
    cut: str = "end"
    """Where a text too long is cut: ``end``, or ``middle`` for keys whose tail tells rows apart
    (``sensors/coretemp-isa-0000/Core 0`` and ``.../Core 1``)."""

    @property
    def share(self) -> float:
        """The column's weight in dividing the spare width."""
        return self.grow or (1.0 if self.width == 0 else 0.0)


def column_widths(columns: list[Column], total: int) -> list[int]:
    """Divide ``total`` cells (marker and separators included) between the columns: each gets
    its own width, then the spare cells go to the growing columns by their shares."""
    spare = max(0, total - sum(c.width + 1 for c in columns) - 3)
    shares = sum(c.share for c in columns)
    out = [c.width + (int(spare * c.share / shares) if shares else 0) for c in columns]
    growing = [i for i, c in enumerate(columns) if c.share]
    if growing:  # what rounding left over goes to the last growing column
        out[growing[-1]] += spare - sum(out) + sum(c.width for c in columns)
    return out


@dataclass(frozen=True, slots=True)
class Row:
    """One line of a RowTable. Rows are compared by value to find what needs redrawing."""

    key: str
    """Identity of the row (a metric key); the cursor follows it when rows move."""
    cells: tuple[str, ...]
    """Text of each column, as received: control characters are made visible when drawn."""
    style: str = ""
    """Rich style of the whole row, e.g. ``bold red``."""
    marker: str = ""
    """Two characters in front of the row, e.g. ``!!``: visible without colour."""
    heading: bool = False
    """A group heading: drawn in bold across the row and skipped by the cursor."""


def fit(text: str, width: int, cut: str = "end") -> str:
    """Return ``text`` cut to ``width`` cells with an ellipsis where it was cut."""
    if len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    if cut == "middle":
        head = (width - 1) // 2
        return text[:head] + "…" + text[len(text) - (width - 1 - head) :]
    return text[: width - 1] + "…"


class RowTable(ScrollView, can_focus=True):
    """A table for hundreds of live rows at a low cost: no widget per row, no layout per update."""

    DEFAULT_CSS = """
    RowTable { height: 1fr; scrollbar-size-vertical: 1; overflow-x: hidden; }
    """

    BINDINGS = [
        Binding("up,k", "move(-1)", "Up", show=False),
        Binding("down,j", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
        Binding("enter", "select", "Details"),
    ]

    cursor: reactive[int] = reactive(0, layout=False, repaint=False)

    @dataclass
    class Selected(Message):
        """Enter was pressed on a row."""

        table: RowTable
        key: str

        @property
        def control(self) -> RowTable:
            return self.table

    @dataclass
    class Scrolled(Message):
        """The visible rows changed: panes draw the costly cells of the rows now in view."""

        table: RowTable

        @property
        def control(self) -> RowTable:
            return self.table

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, RowTable.Scrolled) and message.table is self.table

    def __init__(self, columns: list[Column], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.columns = columns
        self.rows: list[Row] = []
        self._cache: dict[tuple[Row, int, bool], Strip] = {}
        self._widths: tuple[int, list[int]] = (-1, [])
        """The columns' widths at the width they were divided for."""

    def widths(self, width: int) -> list[int]:
        """Cells of each column when the table is ``width`` cells wide (divided once a width,
        not for each line drawn)."""
        if self._widths[0] != width:
            self._widths = (width, column_widths(self.columns, width))
        return self._widths[1]

    def column_width(self, index: int) -> int:
        """Cells of column ``index`` at the current width."""
        return self.widths(self.size.width)[index]

    def flex_width(self) -> int:
        """Cells of the first flexible column (the one of width 0) at the current width."""
        widths = self.widths(self.size.width)
        return next((w for c, w in zip(self.columns, widths, strict=True) if c.width == 0), 0)

    def window(self, margin: int = 0) -> range:
        """Indexes of the rows on screen, and ``margin`` rows either side."""
        top = int(self.scroll_y)
        return range(max(0, top - margin), top + max(self.size.height, 1) + margin)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if int(old_value) != int(new_value):
            self.post_message(self.Scrolled(self))

    def set_rows(self, rows: list[Row]) -> None:
        """Show ``rows``; only lines on screen whose row changed are redrawn (a line off
        screen is drawn from its new row when it scrolls into view)."""
        old, self.rows = self.rows, rows
        current = old[self.cursor].key if 0 <= self.cursor < len(old) else None
        if len(old) != len(rows):
            self.virtual_size = Size(self.size.width, len(rows))
            self._cache.clear()
            self.refresh()
        else:
            changed = [i for i in self.window() if i < len(rows) and old[i] != rows[i]]
            if len(changed) > len(self.window()) // 2:
                self.refresh()
            else:
                for i in changed:
                    self.refresh_line(i)
        # Lines are drawn for the rows on screen only: keep a few screens of them, however
        # many rows there are (400 changing rows would otherwise keep 1,600 stale strips).
        if len(self._cache) > 4 * max(self.size.height, 50):
            self._cache.clear()
        self._keep_cursor(current)

    def _keep_cursor(self, key: str | None) -> None:
        # The cursor's row seldom moves: look for it all through hundreds of rows only if it did.
        index: int | None = self.cursor
        if not (key and 0 <= self.cursor < len(self.rows) and self.rows[self.cursor].key == key):
            index = next((i for i, r in enumerate(self.rows) if r.key == key and key), None)
        if index is None:
            index = min(self.cursor, len(self.rows) - 1)
        if 0 <= index < len(self.rows) and self.rows[index].heading:
            index = self._step(index, 1)
        self._set_cursor(max(0, index), scroll=False)

    @property
    def selected_key(self) -> str | None:
        """Key of the row under the cursor."""
        if 0 <= self.cursor < len(self.rows) and not self.rows[self.cursor].heading:
            return self.rows[self.cursor].key
        return None

    def _set_cursor(self, index: int, scroll: bool = True) -> None:
        index = max(0, min(index, len(self.rows) - 1))
        if index != self.cursor:
            self.refresh_line(self.cursor)
            self.cursor = index
            self.refresh_line(index)
        if scroll:
            self.scroll_to(y=max(0, min(self.scroll_y, index)), animate=False)
            if index >= self.scroll_y + self.size.height:
                self.scroll_to(y=index - self.size.height + 1, animate=False)

    def _step(self, start: int, direction: int) -> int:
        i = start
        while 0 <= i + direction < len(self.rows):
            i += direction
            if not self.rows[i].heading:
                return i
        return self.cursor

    def action_move(self, direction: int) -> None:
        self._set_cursor(self._step(self.cursor, direction))

    def action_page(self, direction: int) -> None:
        self._set_cursor(self.cursor + direction * max(1, self.size.height - 1))

    def action_jump(self, where: int) -> None:
        target = 0 if where == 0 else len(self.rows) - 1
        if self.rows and self.rows[target].heading:
            target = self._step(target, 1 if where == 0 else -1)
        self._set_cursor(target)

    def action_select(self) -> None:
        key = self.selected_key
        if key is not None:
            self.post_message(self.Selected(self, key))

    def on_click(self, event: events.Click) -> None:
        index = event.y + int(self.scroll_y)
        if 0 <= index < len(self.rows) and not self.rows[index].heading:
            if index == self.cursor and event.chain > 1:
                self.action_select()
            self._set_cursor(index)

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(event.size.width, len(self.rows))
        self._cache.clear()

    def on_focus(self) -> None:
        self.refresh_line(self.cursor)

    def on_blur(self) -> None:
        self.refresh_line(self.cursor)

    def render_line(self, y: int) -> Strip:
        index = y + int(self.scroll_y)
        width = self.size.width
        if not 0 <= index < len(self.rows):
            # A blank with a real style: NO_COLOR's monochrome filter fails on a style of None.
            return Strip([Segment(" " * width, Style())], width)
        row = self.rows[index]
        selected = index == self.cursor and self.has_focus
        cache_key = (row, width, selected)
        strip = self._cache.get(cache_key)
        if strip is None:
            strip = self._cache[cache_key] = self._render_row(row, width, selected)
        return strip

    def _render_row(self, row: Row, width: int, selected: bool) -> Strip:
        style = Style.parse(row.style) if row.style else Style()
        if row.heading:
            text = " " + " ".join(printable(c) for c in row.cells if c)
            segs = [Segment(text[:width].ljust(width), style + Style(bold=True))]
            return Strip(segs, width)
        parts = [printable(row.marker or "").ljust(2)[:2]]
        widths = self.widths(width)
        for col, w, cell in zip(self.columns, widths, row.cells, strict=False):
            # Names and errors come from outside: never draw their control characters raw.
            cell = fit(printable(cell), w, col.cut)
            parts.append(cell.rjust(w) if col.align == "right" else cell.ljust(w))
        line = " ".join(parts)[:width].ljust(width)
        if selected:
            style += Style(reverse=True)
        return Strip([Segment(line, style)], width)
