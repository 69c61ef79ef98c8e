"""Provides ``TextLog``: a scrolling log of styled one-line texts, the newest kept.

Textual's ``RichLog`` renders any Rich renderable, and for that loads ``rich.pretty`` and, through
it, the ``attrs`` package: about a megabyte the monitor would carry for a log of plain lines.
"""

from __future__ import annotations

from collections import deque

from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip


class TextLog(ScrollView, can_focus=True):
    """A log of one-line texts, scrolled to its end as lines arrive."""

    DEFAULT_CSS = """
    TextLog {
        background: $surface;
        color: $foreground;
        overflow-y: scroll;
        &:focus {
            background-tint: $foreground 5%;
        }
    }
    """

    def __init__(self, max_lines: int, *, id: str | None = None) -> None:
        """Args:
        max_lines: how many of the newest lines are kept.
        id: the widget's id in the DOM.
        """
        super().__init__(id=id)
        self.strips: deque[Strip] = deque(maxlen=max_lines)
        """The lines kept, drawn, oldest first."""
        self._widest = 0

    def write(self, text: Text) -> None:
        """Append one line of ``text``, drawn with its style and its spans' (not wrapped)."""
        console = self.app.console
        width = max(1, text.cell_len)
        options = console.options.update(width=width, no_wrap=True, overflow="ignore")
        lines = console.render_lines(text, options, pad=False, new_lines=False)
        strip = Strip(lines[0] if lines else [], width)
        self.strips.append(strip)
        self._widest = max(self._widest, strip.cell_length)
        self.virtual_size = Size(self._widest, len(self.strips))
        self.scroll_end(animate=False, immediate=False, x_axis=False)
        self.refresh()

    def render_line(self, y: int) -> Strip:
        """Draw the line ``y`` rows below the top of the view."""
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        index = scroll_y + y
        if index >= len(self.strips):
            return Strip.blank(width, self.rich_style)
        line = self.strips[index].crop_extend(scroll_x, scroll_x + width, self.rich_style)
        return line.apply_style(self.rich_style)
