"""Tests the whole of watching many hosts: two real gongwatch daemons, each exporting on its own
port, and Debian's node exporter, all scraped by one real Prometheus; one screen reading them
through a ``[[sources.prometheus]]`` source shows the three hosts and a killed daemon's host
down, and one screen attached to both daemons by URL shows both hosts."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from engine import Engine, build_collectors
from engine.config import Config
from engine.config_reader import parse
from engine.many import ManyEngineView
from tests.daemon_process import QUIET_SOURCES, DaemonProcess
from tests.prometheus_servers import NodeExporter, Prometheus, free_port, get, wait_for
from tests.tui.helpers import FIXED_NOW
from tui.app import GongwatchApp, make_app
from tui.panes.hosts import HostsPane
from tui.widgets import RowTable


def daemon_text(name: str, listen: int, exporter: int) -> str:
    return f"""listen = "127.0.0.1:{listen}"
name = "{name}"
{QUIET_SOURCES}
[collectors.synthetic]
series = 2
interval = 0.5
[prometheus]
listen = "127.0.0.1:{exporter}"
"""


def rows_by_host(app: GongwatchApp) -> dict[str, tuple[str, ...]]:
    app.tick()
    table = app.query_one("#hosts-table", RowTable)
    return {r.cells[0]: r.cells for r in table.rows if not r.heading}


async def until(pilot: Pilot[Any], test: Callable[[], bool], limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while not test():
        assert time.monotonic() < deadline, f"condition not met in time: {test}"
        await pilot.pause(0.2)


async def show_hosts(app: GongwatchApp, pilot: Pilot[Any]) -> None:
    await pilot.press(str(1 + app.pane_classes.index(HostsPane)))


async def attached_to_both(urls: list[str]) -> None:
    app = make_app(view=ManyEngineView(urls, Config(refresh=0.2)), clock=lambda: FIXED_NOW,
                   hostname="testhost")  # fmt: skip
    async with app.run_test(size=(120, 40)) as pilot:
        await show_hosts(app, pilot)
        await until(pilot, lambda: {h: r[1] for h, r in rows_by_host(app).items()} == {
            "alpha": "up", "beta": "up"})  # fmt: skip


async def test_two_daemons_and_a_node_exporter_through_one_prometheus(tmp_path: Path) -> None:
    listen = [free_port(), free_port()]
    exported = [free_port(), free_port()]
    node = NodeExporter(tmp_path)
    prometheus = None
    with (
        DaemonProcess(daemon_text("alpha", listen[0], exported[0])) as alpha,
        DaemonProcess(daemon_text("beta", listen[1], exported[1])) as beta,
    ):
        try:
            for daemon, port in ((alpha, exported[0]), (beta, exported[1])):
                daemon.start()
                wait_for("its exporter", lambda p=port: get(f"http://127.0.0.1:{p}/metrics"))  # type: ignore[misc]
            await attached_to_both([f"http://127.0.0.1:{p}" for p in listen])

            targets = [node.address, *(f"127.0.0.1:{p}" for p in exported)]
            prometheus = Prometheus(tmp_path, targets, job="lab")
            prometheus.wait_until_scraped(dict.fromkeys(targets, 1.0))
            config = parse(f"""{QUIET_SOURCES}
[[sources.prometheus]]
name = "lab"
url = "{prometheus.url}"
query = '{{job="lab"}}'
interval = 1.0
""")
            engine = Engine(config, build_collectors(config))
            app = make_app(engine=engine, clock=lambda: FIXED_NOW, hostname="testhost")
            async with app.run_test(size=(120, 40)) as pilot:
                await show_hosts(app, pilot)
                await until(pilot, lambda: all(
                    rows_by_host(app).get(t, ("",) * 2)[1] == "up" for t in targets))  # fmt: skip
                gone_host = targets[2]
                theirs = f"hosts/{gone_host}/gongwatch_"
                assert any(k.startswith(theirs) for k in engine.snapshot().metrics)

                beta.signal(signal.SIGKILL)
                beta.proc.wait(10)  # type: ignore[union-attr]
                await until(pilot, lambda: rows_by_host(app)[gone_host][1:3] == (
                    "down", "critical"))  # fmt: skip
                # Its series are gone, not shown at their last values.
                await until(pilot, lambda: not any(
                    k.startswith(theirs) for k in engine.snapshot().metrics))  # fmt: skip
                rows = rows_by_host(app)
                assert rows[targets[0]][1] == rows[targets[1]][1] == "up"
                title = str(app.query_one("#hosts-title").render())
                assert "3 hosts" in title and "2 up" in title and "1 down" in title
        finally:
            if prometheus is not None:
                prometheus.stop()
            node.stop()
