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


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a RowTable."""

    width: int
    """Cells wide; 0 makes it the flexible column that takes what is left."""
    align: str = "left"
    """``left`` or ``right``."""


@dataclass(frozen=True, slots=True)
class Row:
    """One line of a RowTable. Rows are compared by value to find what needs redrawing."""

    key: str
    """Identity of the row (a metric key); the cursor follows it when rows move."""
    cells: tuple[str, ...]
    """Text of each column."""
    style: str = ""
    """Rich style of the whole row, e.g. ``bold red``."""
    marker: str = ""
    """Two characters in front of the row, e.g. ``!!``: visible without colour."""
    heading: bool = False
    """A group heading: drawn in bold across the row and skipped by the cursor."""


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

    def __init__(self, columns: list[Column], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.columns = columns
        self.rows: list[Row] = []
        self._cache: dict[tuple[Row, int, bool], Strip] = {}

    def flex_width(self) -> int:
        """Cells left for the flexible column at the current width."""
        fixed = sum(c.width + 1 for c in self.columns if c.width) + 2
        return max(0, self.size.width - fixed - 1)

    def set_rows(self, rows: list[Row]) -> None:
        """Show ``rows``; only lines whose row changed are redrawn."""
        old, self.rows = self.rows, rows
        current = old[self.cursor].key if 0 <= self.cursor < len(old) else None
        if len(old) != len(rows):
            self.virtual_size = Size(self.size.width, len(rows))
            self._cache.clear()
            self.refresh()
        else:
            for i, (a, b) in enumerate(zip(old, rows, strict=True)):
                if a != b:
                    self.refresh_line(i)
        if len(self._cache) > 4 * max(len(rows), 50):
            self._cache.clear()
        self._keep_cursor(current)

    def _keep_cursor(self, key: str | None) -> None:
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
            text = " " + " ".join(c for c in row.cells if c)
            segs = [Segment(text[:width].ljust(width), style + Style(bold=True))]
            return Strip(segs, width)
        parts = [(row.marker or "").ljust(2)[:2]]
        flex = self.flex_width()
        for col, cell in zip(self.columns, row.cells, strict=False):
            w = col.width or flex
            cell = cell if len(cell) <= w else cell[: max(0, w - 1)] + "…"
            parts.append(cell.rjust(w) if col.align == "right" else cell.ljust(w))
        line = " ".join(parts)[:width].ljust(width)
        if selected:
            style += Style(reverse=True)
        return Strip([Segment(line, style)], width)
