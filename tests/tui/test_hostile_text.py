"""Tests that text from outside (API names, error lines) is drawn with its control characters
made visible: an escape sequence in a Server Density node name must not reach the terminal,
and a newline in it must not break its row."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from collectors.base import Batch, printable
from collectors.serverdensity import ServerDensityCollector
from engine import Engine
from engine.config import Config
from tests.remote_server import NODES, TOKEN, RemoteServer
from tui.app import GongwatchApp, make_app
from tui.panes.overview import OverviewPane
from tui.panes.remote import RemotePane
from tui.widgets import RowTable

FIXED_NOW = datetime(2026, 11, 22, 16, 40, 12, tzinfo=UTC)
TITLE_SET = "\x1b]0;pwned\x1b\\"
"""Sets the terminal's title when written raw."""
EVIL_NAME = f"Sydney{TITLE_SET}\nAustralia\x9b2J"


@pytest.fixture
def server() -> Iterator[RemoteServer]:
    with RemoteServer() as srv:
        nodes = [dict(n, name=EVIL_NAME) if n["id"] == "syd" else n for n in NODES]
        srv.override["/service-monitor/nodes"] = json.dumps(nodes)
        yield srv


def polled_engine(server: RemoteServer) -> Engine:
    sd = ServerDensityCollector("sd", server.url, TOKEN, timeout=1.0, services=("web",))
    engine = Engine(Config(), [sd])
    engine.ingest(engine.poll_one(sd))
    return engine


def app_for(engine: Engine) -> GongwatchApp:
    return make_app(engine=engine, clock=lambda: FIXED_NOW, hostname="testhost", autostart=False)


def drawn_lines(table: RowTable) -> list[str]:
    return [table.render_line(y).text for y in range(min(len(table.rows), table.size.height))]


def assert_safe(text: str) -> None:
    assert "\x1b" not in text and "\x9b" not in text, repr(text)


def test_printable_makes_every_control_visible_and_keeps_the_rest() -> None:
    assert printable("Core 0 °C 温度") == "Core 0 °C 温度"
    assert printable("a\x1b]0;t\x07b\nc") == "a␛]0;t␇b␊c"
    assert printable("x\x9b2J\u202egnp.exe\u2028") == "x\\x9b2J\\u202egnp.exe\\u2028"
    assert all(ord(c) >= 0x20 for c in printable("".join(map(chr, range(0x100)))))


async def test_remote_and_overview_panes_draw_a_hostile_node_name_as_text(
    server: RemoteServer,
) -> None:
    engine = polled_engine(server)
    labels = [st.reading.label for st in engine.snapshot().metrics.values()]
    assert EVIL_NAME in labels  # the name really came through the collector unchanged
    app = app_for(engine)
    async with app.run_test(size=(140, 36)) as pilot:
        app.action_show_pane(1 + app.pane_classes.index(RemotePane))
        app.tick()
        await pilot.pause()
        lines = drawn_lines(app.query_one("#remote-table", RowTable))
        sydney = [line for line in lines if "Sydney" in line]
        assert len(sydney) == 1 and "Sydney␛]0;pwned␛\\" in sydney[0]  # one row, cut to fit
        remote_svg = app.export_screenshot()
        app.action_show_pane(1 + app.pane_classes.index(OverviewPane))
        app.tick()
        await pilot.pause()
        overview = drawn_lines(app.query_one("#overview-table", RowTable))
        overview_svg = app.export_screenshot()
    for text in (*lines, *overview, remote_svg, overview_svg):
        assert_safe(text)
    assert any("Sydney␛]0;pwned" in line for line in overview)
    assert "Sydney" in remote_svg


class _Noisy:
    """A source whose error line carries what a hostile endpoint sent back."""

    name = "noisy"
    interval = 60.0

    def poll(self) -> Batch:
        return Batch(self.name, errors=(f"HTTP 500: {TITLE_SET}\nforged line",))


async def test_notifications_and_problem_lines_draw_controls_visibly() -> None:
    engine = Engine(Config(), [_Noisy()])  # type: ignore[list-item]
    engine.ingest(engine.poll_one(engine.collectors[0]))
    app = app_for(engine)
    async with app.run_test(size=(120, 30)) as pilot:
        app.tick()
        await pilot.pause()
        messages = [f"{n.title} {n.message}" for n in app._notifications]
        screen = app.export_screenshot()
    assert any("HTTP 500: ␛]0;pwned␛\\␊forged line" in m for m in messages)
    for text in (*messages, screen):
        assert_safe(text)
