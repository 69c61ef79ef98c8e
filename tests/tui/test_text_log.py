"""Tests the devices pane's log widget: styled lines drawn as written, the newest kept, the
view at the end."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult

from tui.widgets import TextLog


class LogApp(App[None]):
    def compose(self) -> ComposeResult:
        yield TextLog(5, id="log")


async def test_the_log_keeps_its_newest_lines_and_shows_the_last() -> None:
    app = LogApp()
    async with app.run_test(size=(40, 4)) as pilot:
        log = app.query_one(TextLog)
        for i in range(8):
            log.write(Text(f"line {i}", style="red" if i % 2 else "dim"))
        await pilot.pause()
        assert [s.text for s in log.strips] == [f"line {i}" for i in range(3, 8)]
        assert log.virtual_size.height == 5
        shown = [log.render_line(y).text.rstrip() for y in range(log.size.height)]
        assert shown[-1] == "line 7" and "line 2" not in shown
        red = log.strips[-1]
        assert any(seg.style is not None and seg.style.color is not None for seg in red)
        width = log.scrollable_content_region.width
        assert all(log.render_line(y).cell_length == width for y in range(4))
