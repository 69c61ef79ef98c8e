"""Tests the Remote pane and its world map through Textual's pilot, fed by a real test server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from collectors.http_check import HttpCheckCollector
from collectors.serverdensity import ServerDensityCollector
from engine import Engine
from engine.config_reader import parse
from tests.remote_server import TOKEN, RemoteServer
from tui.app import GongwatchApp, make_app
from tui.panes.remote import RemotePane
from tui.widgets import RowTable
from tui.widgets.world_map import WorldMap, map_height

FIXED_NOW = datetime(2026, 11, 22, 16, 40, 12, tzinfo=UTC)
CONFIG = parse("[remote.locations]\nlocal = [48.1, 11.6]\n")


@pytest.fixture
def server() -> Iterator[RemoteServer]:
    with RemoteServer() as srv:
        yield srv


def collectors(server: RemoteServer, interval: float = 60.0) -> list[object]:
    return [
        ServerDensityCollector(
            "sd", server.url, TOKEN, timeout=0.3, services=("web",), interval=interval
        ),
        HttpCheckCollector("blog", server.url + "/check/ok", slow=2.0, interval=interval),
        HttpCheckCollector("dead", server.url + "/check/status/500", interval=interval),
    ]


def app_for(engine: Engine, autostart: bool = False) -> GongwatchApp:
    return make_app(
        engine=engine, clock=lambda: FIXED_NOW, hostname="testhost", autostart=autostart
    )


async def show_remote(app: GongwatchApp) -> RemotePane:
    app.action_show_pane(1 + app.pane_classes.index(RemotePane))
    pane = app.query_one(RemotePane)
    app.tick()
    return pane


def polled_engine(server: RemoteServer, rounds: int = 1) -> Engine:
    """An engine whose remote collectors have polled the test server ``rounds`` times."""
    engine = Engine(CONFIG, collectors(server))  # type: ignore[arg-type]
    for _ in range(rounds):
        for c in engine.collectors:
            engine.ingest(engine.poll_one(c))
    return engine


async def test_pane_shows_every_location_with_state_time_and_error(server: RemoteServer) -> None:
    engine = polled_engine(server, rounds=3)
    app = app_for(engine)
    async with app.run_test(size=(140, 36)) as pilot:
        pane = await show_remote(app)
        await pilot.pause()
        table = app.query_one("#remote-table", RowTable)
        rows = {r.key: r for r in table.rows if not r.heading}
        sydney = rows["remote/web/sydney/time"]
        assert sydney.marker.strip() == "●" and sydney.cells[1] == "up" and "green" in sydney.style
        assert sydney.cells[2] == "120 ms" and sydney.cells[0] == "Sydney, Australia"
        assert any(ch in sydney.cells[3] for ch in "▁▂▃▄▅▆▇█")  # the sparkline
        london = rows["remote/web/london/time"]
        assert london.marker.strip() == "◐" and london.cells[1] == "slow"
        ny = rows["remote/web/new-york/time"]
        assert ny.marker.strip() == "✖" and ny.cells[4] == "down from New York, USA (HTTP 503)"
        dead = rows["remote/dead/local/time"]
        assert dead.cells[1] == "down" and dead.cells[4].startswith("HTTP 500 (expected 200)")
        headings = [r.cells[0] for r in table.rows if r.heading]
        assert "web  1 up · 1 slow · 1 down" in headings
        problems = str(pane.query_one("#remote-problems").render())
        assert "http:dead: HTTP 500 (expected 200) (backing off)" in problems


async def test_map_places_each_location_coloured_and_symbolled(server: RemoteServer) -> None:
    engine = polled_engine(server)
    app = app_for(engine)
    async with app.run_test(size=(140, 36)) as pilot:
        await show_remote(app)
        await pilot.pause()
        world = app.query_one(WorldMap)
        assert world.display
        states = {m.name: (m.state, m.lat is not None) for m in world.markers}
        # local holds both checks: one up, one down; the worst wins, as on the LED map.
        assert states == {
            "sydney": ("up", True),
            "london": ("slow", True),
            "new-york": ("down", True),
            "local": ("down", True),
        }
        drawn = world.render()
        lines = drawn.plain.splitlines()[: map_height(world.size.width)]
        assert sum(line.count("✖") for line in lines) == 2  # new-york and local (Munich)
        assert "◐ london" in drawn.plain and "● sydney" in drawn.plain
        styles = {drawn.plain[s.start : s.end]: str(s.style) for s in drawn.spans}
        assert styles["◐"] == "bold dark_orange" and styles["✖"] == "bold red"


async def test_narrow_screen_hides_the_map_and_filter_narrows_rows(server: RemoteServer) -> None:
    engine = polled_engine(server)
    app = app_for(engine)
    async with app.run_test(size=(80, 30)) as pilot:
        pane = await show_remote(app)
        await pilot.pause()
        assert not app.query_one(WorldMap).display
        pane.set_filter("london")
        keys = [r.key for r in app.query_one("#remote-table", RowTable).rows if not r.heading]
        assert keys == ["remote/web/london/time"]


async def test_live_updates_and_the_token_never_reaches_the_screen(server: RemoteServer) -> None:
    engine = Engine(CONFIG, collectors(server, interval=0.1))  # type: ignore[arg-type]
    server.override["/inventory/services"] = "401"
    app = app_for(engine, autostart=True)
    async with app.run_test(size=(140, 36)) as pilot:
        pane = await show_remote(app)
        for _ in range(100):  # bounded: at most ~5 s
            await pilot.pause(0.05)
            app.tick()
            if "refused the token" in str(pane.query_one("#remote-problems").render()):
                break
        server.override.clear()
        table = app.query_one("#remote-table", RowTable)
        for _ in range(100):
            await pilot.pause(0.05)
            app.tick()
            if any(r.key == "remote/web/sydney/time" for r in table.rows):
                break
        assert any(r.key == "remote/web/sydney/time" for r in table.rows)
        messages = [f"{n.title} {n.message}" for n in app._notifications]
        assert any("refused the token" in m for m in messages)
        screen = app.export_screenshot()
    seen = "\n".join(messages) + screen + repr(engine.snapshot())
    assert TOKEN not in seen and "T0KEN" not in seen
