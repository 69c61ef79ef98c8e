"""Tests that a pane of hundreds of metrics draws only what is on screen, and that scrolling
brings current sparklines into view."""

from __future__ import annotations

from typing import Any

import pytest

from collectors.base import Batch, Reading
from engine import Engine
from engine.config import Config
from tui.panes import OverviewPane, SensorsPane
from tui.panes.base import SPARK_MARGIN
from tui.widgets import RowTable

from .test_hardware_panes import app_for, show


def busy_engine(points: int = 5) -> Engine:
    engine = Engine(Config(default_detector="robust_z"))
    for t in range(points):
        batch = tuple(
            Reading(f"sensors/chip{i // 20}/s{i % 20}", 40.0 + (t * i) % 7, "°C", 1000.0 + t)
            for i in range(400)
        )
        engine.ingest(Batch("sensors", batch))
    return engine


async def test_only_rows_near_the_screen_draw_their_sparklines() -> None:
    engine = busy_engine()
    calls: list[str] = []
    history = engine.history

    def counted(key: str, count: int | None = None) -> Any:
        calls.append(key)
        return history(key, count)

    engine.history = counted  # type: ignore[method-assign]
    app = app_for(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await show(app, pilot, OverviewPane)
        table = app.query_one("#overview-table", RowTable)
        assert 0 < len(calls) <= table.size.height + 2 * 10 + 1
        last = table.rows[-1]
        assert last.cells[2] == ""  # far below the screen: not drawn yet
        await pilot.press("end")
        await pilot.pause()
        app.tick()
        await pilot.pause()
        assert any(ch in table.rows[-1].cells[2] for ch in "▁▂▃▄▅▆▇█")


@pytest.mark.parametrize("pane", [OverviewPane, SensorsPane])
async def test_rows_far_off_the_screen_are_built_when_they_come_near(pane: type) -> None:
    engine = busy_engine()
    app = app_for(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await show(app, pilot, pane)
        table = app.query_one(f"#{pane.PANE_ID}-table", RowTable)
        before = list(table.rows)
        batch = tuple(
            Reading(f"sensors/chip{i // 20}/s{i % 20}", 99.0, "°C", 2000.0) for i in range(400)
        )
        engine.ingest(Batch("sensors", batch))
        app.tick()
        await pilot.pause()
        after = table.rows
        assert "99" in after[1].cells[1]  # on screen: the new value
        assert after[-1] is before[-1] and "99" not in after[-1].cells[1]  # far off: as it was
        title = str(app.query_one(f"#{pane.PANE_ID}-title").render())
        assert "400 metrics" in title or "400 sensors" in title
        await pilot.press("end")
        await pilot.pause()
        assert "99" in table.rows[-1].cells[1]  # scrolled near: built anew


async def test_the_drawn_lines_kept_follow_the_screen_not_the_metric_count() -> None:
    """Lines are kept for rows that did not change; with 400 metrics changing every poll, the
    lines kept must stay a few screens' worth, not a few per metric (megabytes of strips)."""
    engine = busy_engine()
    app = app_for(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await show(app, pilot, OverviewPane)
        table = app.query_one("#overview-table", RowTable)
        most = 0
        for t in range(5, 80):
            batch = tuple(
                Reading(f"sensors/chip{i // 20}/s{i % 20}", 40.0 + t + i % 7, "°C", 1000.0 + t)
                for i in range(400)
            )
            engine.ingest(Batch("sensors", batch))
            app.tick()
            await pilot.pause()
            most = max(most, len(table._cache))
        # Trimmed before each poll's lines are drawn: one screen of them may come on top.
        assert 0 < most <= 4 * max(table.size.height, 50) + table.size.height


async def test_a_refresh_looks_only_at_the_rows_near_the_screen_yet_counts_every_anomaly() -> None:
    engine = busy_engine(points=30)
    app = app_for(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await show(app, pilot, OverviewPane)
        pane = app.query_one(OverviewPane)
        table = app.query_one("#overview-table", RowTable)
        looked: list[str] = []
        far_row, row = pane.far_row, pane._row
        pane.far_row = lambda key, *a: (looked.append(key), far_row(key, *a))[1]  # type: ignore[method-assign]
        pane._row = lambda state, *a: (looked.append(state.key), row(state, *a))[1]  # type: ignore[method-assign]
        batch = tuple(
            Reading(f"sensors/chip{i // 20}/s{i % 20}", 1e6 if i == 399 else 41.0, "°C", 2000.0)
            for i in range(400)
        )
        engine.ingest(Batch("sensors", batch))
        app.tick()
        await pilot.pause()
        assert 0 < len(looked) <= table.size.height + 2 * SPARK_MARGIN
        assert "sensors/chip19/s19" not in looked
        title = str(app.query_one("#overview-title").render())
        assert "1 anomalous" in title  # the last row, far below the screen, is counted
        await pilot.press("end")
        await pilot.pause()
        assert table.rows[-1].marker.strip() and "1,000,000" in table.rows[-1].cells[1]
