"""Tests the app through Textual's pilot: every key binding, the Overview and the detail chart."""

from __future__ import annotations

import re

from textual.widgets import Input, TabbedContent

from collectors.base import Status
from tui.app import GongwatchApp
from tui.screens import DetailScreen, HelpScreen
from tui.widgets import RowTable

from .helpers import recorded_engine, spike, test_app

test_app.__test__ = False  # type: ignore[attr-defined]  # a factory, not a test


async def shown(app: GongwatchApp) -> RowTable:
    app.tick()
    return app.query_one("#overview-table", RowTable)


async def test_overview_lists_every_metric_with_value_and_sparkline() -> None:
    app = test_app()
    async with app.run_test(size=(100, 30)) as pilot:
        table = await shown(app)
        await pilot.pause()
        keys = [r.key for r in table.rows if not r.heading]
        assert keys[:3] == ["system/cpu/total", "system/cpu/0", "system/cpu/1"]
        row = next(r for r in table.rows if r.key == "system/cpu/total")
        assert row.cells[1].endswith("%")
        assert any(ch in row.cells[2] for ch in "▁▂▃▄▅▆▇█")


async def test_anomalies_are_marked_without_colour() -> None:
    engine = recorded_engine()
    spike(engine)
    app = test_app(engine)
    async with app.run_test(size=(100, 30)):
        table = await shown(app)
        row = next(r for r in table.rows if r.key == "system/load/1m")
        assert row.marker.strip() == "!" and "yellow" in row.style
        calm = next(r for r in table.rows if r.key == "system/swap/used")
        assert calm.marker == "" and calm.style == ""


async def test_a_load_past_the_core_count_is_unusual_however_long_it_lasts() -> None:
    engine = recorded_engine()
    for _ in range(60):  # long enough for any detector to take 8.2 as the new normal
        spike(engine, value=8.2)  # a source that says "ok" of its own limit crossed
    app = test_app(engine)
    async with app.run_test(size=(100, 30)):
        table = await shown(app)
        row = next(r for r in table.rows if r.key == "system/load/1m")
        # The limit comes first; a detector that still sees the jump may add its own words.
        assert row.marker.strip() == "!" and row.cells[-1].startswith("above max 2")


async def test_q_quits() -> None:
    app = test_app()
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.press("q")
    assert app.return_code == 0


async def test_p_pauses_the_display_but_not_collection() -> None:
    engine = recorded_engine(polls=10)
    app = test_app(engine)
    async with app.run_test(size=(100, 30)) as pilot:
        table = await shown(app)
        before = list(table.rows)
        await pilot.press("p")
        assert app.paused
        spike(engine)
        app.tick()
        assert table.rows == before  # frozen
        await pilot.press("p")
        assert not app.paused
        app.tick()
        assert table.rows != before
        assert engine.snapshot().metrics["system/load/1m"].reading.value == 9.5


async def test_question_mark_shows_help_with_the_bindings() -> None:
    app = test_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = "\n".join(f"{k} {d}" for _, items in app.screen.sections for k, d in items)
        for word in ("Quit", "Pause", "Filter", "Details", "command palette"):
            assert word in text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_tab_and_number_keys_switch_panes() -> None:
    app = test_app()
    async with app.run_test(size=(100, 30)) as pilot:
        tabs = app.query_one("#tabs", TabbedContent)
        ids = [f"tab-{c.PANE_ID}" for c in app.pane_classes]
        assert tabs.active == ids[0]
        await pilot.press("tab")
        assert tabs.active == ids[1 % len(ids)]
        await pilot.press("shift+tab")
        assert tabs.active == ids[0]
        await pilot.press(str(len(ids)))
        assert tabs.active == ids[-1]
        await pilot.press("1")
        assert tabs.active == ids[0]


async def test_slash_filters_metrics_and_escape_clears() -> None:
    app = test_app()
    async with app.run_test(size=(100, 30)) as pilot:
        table = await shown(app)
        await pilot.press("slash")
        await pilot.pause()
        box = app.query_one("#filter", Input)
        assert box.has_focus
        await pilot.press(*"load")
        keys = [r.key for r in table.rows if not r.heading]
        assert keys == ["system/load/1m", "system/load/5m", "system/load/15m"]
        await pilot.press("escape")
        assert box.value == "" and not box.has_focus
        assert len([r for r in table.rows if not r.heading]) > 3


async def test_filter_takes_globs() -> None:
    app = test_app()
    async with app.run_test(size=(100, 30)) as pilot:
        table = await shown(app)
        await pilot.press("slash")
        await pilot.pause()
        await pilot.press(*"system/cpu/*", "enter")
        await pilot.pause()
        keys = [r.key for r in table.rows if not r.heading]
        assert keys == ["system/cpu/total", "system/cpu/0", "system/cpu/1"]
        assert table.has_focus  # enter keeps the filter and goes back to the list


async def test_enter_opens_the_detail_chart() -> None:
    engine = recorded_engine()
    spike(engine, "system/cpu/total", 100.0, Status.CRITICAL)
    app = test_app(engine)
    async with app.run_test(size=(100, 30)) as pilot:
        await shown(app)
        await pilot.pause()
        await pilot.press("enter")
        assert isinstance(app.screen, DetailScreen)
        assert app.screen.key == "system/cpu/total"
        await pilot.pause()
        chart = str(app.screen.query_one("#detail-chart").render())
        for label in ("flagged live", "band", "forecast"):
            assert label in chart
        assert re.search(r"\d\d:\d\d:\d\d", chart)  # the x axis shows clock times
        title = str(app.screen.query_one("#detail-title").render())
        assert f"anomalies: {app.screen.detector}" in title
        first = app.screen.detector
        await pilot.press("d")
        assert app.screen.detector != first
        assert f"anomalies: {app.screen.detector}" in str(
            app.screen.query_one("#detail-title").render()
        )
        app.tick()  # the main screen's refresh goes on underneath
        await pilot.press("escape")
        assert not isinstance(app.screen, DetailScreen)


async def test_arrow_keys_move_the_cursor() -> None:
    app = test_app()
    async with app.run_test(size=(100, 30)) as pilot:
        table = await shown(app)
        await pilot.pause()
        assert table.selected_key == "system/cpu/total"
        await pilot.press("down")
        assert table.selected_key == "system/cpu/0"
        await pilot.press("end")
        assert table.selected_key == "system/uptime"
        await pilot.press("home")
        assert table.selected_key == "system/cpu/total"


async def test_command_palette_opens_a_chart() -> None:
    app = test_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await shown(app)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Chart: system/swap")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert isinstance(app.screen, DetailScreen) and app.screen.key == "system/swap/used"


async def test_collector_errors_are_notified_once() -> None:
    from collectors.base import Batch

    engine = recorded_engine(polls=2)
    app = test_app(engine)
    async with app.run_test(size=(100, 30)) as pilot:
        engine.ingest(Batch("sensors", errors=("fan2: EIO",)))
        app.tick()
        engine.ingest(Batch("sensors", errors=("fan2: EIO",)))
        app.tick()
        await pilot.pause()
        texts = [n.message for n in app._notifications]
        assert texts.count("fan2: EIO") == 1
