"""Tests what a refresh costs the screen: new values and a new second are painted without
laying the screen out again, and the panes that are not shown do no work."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from collectors.base import Batch, Reading
from engine import Engine
from engine.config import Config
from tui.app import GongwatchApp, make_app
from tui.panes import PANES, OverviewPane, Pane, SensorsPane
from tui.widgets import RowTable, row_table
from tui.widgets.row_table import Column, column_widths

from .helpers import FIXED_NOW


class Clock:
    """A wall clock that moves one second each time the header asks it."""

    def __init__(self) -> None:
        self.now = FIXED_NOW

    def __call__(self) -> Any:
        self.now += timedelta(seconds=1)
        return self.now


def feed(engine: Engine, t: float) -> None:
    batch = tuple(
        Reading(f"sensors/chip{i // 5}/temp{i % 5}", 40.0 + (t * i) % 9, "°C", t) for i in range(20)
    )
    engine.ingest(Batch("sensors", batch))
    engine.ingest(Batch("system", (Reading("system/cpu/total", t % 7, "%", t),)))


def app_on(engine: Engine) -> GongwatchApp:
    return make_app(engine=engine, clock=Clock(), hostname="testhost", autostart=False)


async def test_new_values_and_a_new_second_lay_nothing_out_again() -> None:
    engine = Engine(Config(default_detector="robust_z"))
    for t in range(5):
        feed(engine, 1000.0 + t)
    app = app_on(engine)
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(3):  # the first frames lay the screen out: let them settle
            app.tick()
            await pilot.pause(0.1)
        layouts: list[object] = []
        app.screen.screen_layout_refresh_signal.subscribe(app.screen, layouts.append)
        header = app.query_one("#header")
        before = (str(header.render()), list(app.query_one("#overview-table", RowTable).rows))
        for t in range(5, 10):
            feed(engine, 1000.0 + t)
            app.tick()
            await pilot.pause()
        after = (str(header.render()), list(app.query_one("#overview-table", RowTable).rows))
        assert before[0] != after[0] and before[1] != after[1]  # painted anew
        assert layouts == []


async def test_a_new_problem_line_still_gets_its_room() -> None:
    # The problems line's height follows its text: it is laid out again when it changes.
    engine = Engine(Config())
    feed(engine, 1000.0)
    app = app_on(engine)
    async with app.run_test(size=(100, 30)) as pilot:
        app.action_show_pane(PANES.index(SensorsPane) + 1)
        await pilot.pause()
        app.tick()
        await pilot.pause()
        problems = app.query_one("#sensors-problems")
        assert problems.size.height <= 1  # an empty line
        engine.ingest(Batch("sensors", errors=("chip0: read error", "chip1: read error")))
        app.tick()
        await pilot.pause()
        assert problems.size.height == 2


async def test_the_panes_not_shown_draw_no_rows() -> None:
    engine = Engine(Config(default_detector="robust_z"))
    feed(engine, 1000.0)
    app = app_on(engine)
    drawn: list[str] = []
    async with app.run_test(size=(100, 30)) as pilot:
        for pane in app.query(Pane):
            shown = pane.show_snapshot
            pane.show_snapshot = lambda s, f=shown, p=pane: (drawn.append(p.PANE_ID), f(s))  # type: ignore[method-assign]
        for t in range(1, 4):
            feed(engine, 1000.0 + t)
            app.tick()
            await pilot.pause()
        assert set(drawn) == {OverviewPane.PANE_ID}
        assert all(not t.rows for t in app.query(RowTable) if t.id != "overview-table")


async def test_the_columns_are_divided_once_a_width_not_for_each_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = Engine(Config(default_detector="robust_z"))
    feed(engine, 1000.0)
    app = app_on(engine)
    divided: list[int] = []

    def counted(columns: list[Column], total: int) -> list[int]:
        divided.append(total)
        return column_widths(columns, total)

    monkeypatch.setattr(row_table, "column_widths", counted)
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.query_one("#overview-table", RowTable)
        for t in range(1, 4):
            feed(engine, 1000.0 + t)
            app.tick()
            await pilot.pause()
        assert divided == [table.size.width]  # 22 lines drawn each time, one division
        await pilot.resize_terminal(140, 30)
        await pilot.pause()
        app.tick()
        await pilot.pause()
        assert divided[-1] == table.size.width > 100
        assert len(divided) <= 3  # and divided again at the new width only
        assert table.render_line(1).cell_length == table.size.width
