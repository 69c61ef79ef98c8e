"""Tests that a source whose thread stopped is shown as stopped, never as a quiet machine:
through the real app, the header and the Overview say ``stopped: <source> (<reason>)``."""

from __future__ import annotations

from datetime import UTC, datetime

from engine import Engine
from engine.config import Config
from tests.engine.test_source_threads import Boom, FlakyCollector
from tui.app import GongwatchApp, make_app
from tui.panes.overview import OverviewPane

FIXED_NOW = datetime(2026, 11, 22, 16, 40, 12, tzinfo=UTC)


def header_text(app: GongwatchApp) -> str:
    return str(app.query_one("#header").render())


async def test_the_header_and_overview_say_a_source_stopped_and_why() -> None:
    flaky = FlakyCollector(lambda: Boom("the library gave up [badly]"))
    engine = Engine(Config(), [flaky])  # type: ignore[list-item]
    app = make_app(engine=engine, clock=lambda: FIXED_NOW, hostname="testhost", autostart=True)
    async with app.run_test(size=(160, 30)) as pilot:
        note = "stopped: flaky (Boom: the library gave up [badly])"
        for _ in range(100):  # bounded: at most ~5 s
            await pilot.pause(0.05)
            app.tick()
            if note in header_text(app):
                break
        assert note in header_text(app)
        title = str(app.query_one(OverviewPane).query_one("#overview-title").render())
        assert note in title
        messages = [f"{n.title} {n.message}" for n in app._notifications]
        assert any("flaky stopped: Boom: the library gave up [badly]" in m for m in messages)
        flaky.failing.clear()
        for _ in range(160):  # the first restart comes after half a second
            await pilot.pause(0.05)
            app.tick()
            if "stopped" not in header_text(app):
                break
        assert "stopped" not in header_text(app)
        assert "flaky/value" in engine.snapshot().metrics
